"""Engines for SQLite (embedded default) and PostgreSQL, and a health ping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from persistence.driver_pool import DriverPool

SQLITE_BUSY_TIMEOUT_MS = 10_000
# An execution option that makes the next SQLite transaction BEGIN IMMEDIATE: writers
# then queue on the busy timeout instead of failing to upgrade a read lock.
WRITE_INTENT = "trackql_write_intent"
# PostgreSQL runs at READ COMMITTED, where every statement takes its own snapshot
# even inside a transaction: a read-only unit of work loses nothing without one, and
# saves the BEGIN and ROLLBACK round trips. (SQLite keeps its transaction: there it
# is what gives the statements of one request a shared snapshot.)
POSTGRES_READS: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}
RECYCLE_SECONDS = 1800


class WriterTurns:
    """SQLite has one writer at a time, and one process serves it (`trackql serve`
    refuses more workers). Its write transactions wait for their turn here, in
    arrival order and holding no connection, instead of in SQLite's busy handler,
    which retries after sleeps of up to 100 ms, in no order: createTask's p99 was
    1.4 s at 16 connections."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.waiting = 0  # for tests and diagnostics

    async def take(self) -> None:
        """Wait as long as SQLite's busy handler would: TimeoutError after that."""
        self.waiting += 1
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await self._lock.acquire()
        finally:
            self.waiting -= 1

    def give_back(self) -> None:
        self._lock.release()


_WRITER_TURNS: WeakKeyDictionary[Engine, WriterTurns] = WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class PoolOptions:
    size: int = 10
    overflow: int = 10
    timeout_seconds: float = 5.0
    # Below 5 s, so that a request is answered within 5 s when the database is down.
    connect_timeout_seconds: float = 3.0
    statement_timeout_ms: int = 15_000


def normalize_url(raw: str) -> URL:
    """Map plain `postgresql://` and `sqlite://` URLs to their async drivers."""
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme {url.drivername!r}")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def create_engine(raw_url: str, pool: PoolOptions | None = None) -> AsyncEngine:
    url = normalize_url(raw_url)
    pool = pool or PoolOptions()
    if is_sqlite(url):
        return _sqlite_engine(url)
    engine = create_async_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout_seconds,
        pool_recycle=RECYCLE_SECONDS,
        connect_args=_postgres_connect_args(pool),
    )
    _install_postgres_checkout(engine)
    return engine


def create_driver_pool(
    raw_url: str, pool: PoolOptions | None = None
) -> DriverPool | None:
    """The asyncpg connections of driver reads (persistence/driver_pool.py), made
    as the engine makes its own; None on SQLite."""
    url = normalize_url(raw_url)
    if is_sqlite(url):
        return None
    pool = pool or PoolOptions()
    target: dict[str, Any] = {
        **url.translate_connect_args(username="user"),
        **url.query,
        **_postgres_connect_args(pool),
    }

    async def connect() -> Any:
        return await asyncpg.connect(**target)

    return DriverPool(
        connect,
        size=pool.size,
        recycle_seconds=RECYCLE_SECONDS,
        timeout_seconds=pool.timeout_seconds,
    )


def _postgres_connect_args(pool: PoolOptions) -> dict[str, Any]:
    return {
        "timeout": pool.connect_timeout_seconds,
        "command_timeout": pool.statement_timeout_ms / 1000 + 5,
        "server_settings": {
            "statement_timeout": str(pool.statement_timeout_ms),
            "timezone": "UTC",
        },
    }


def read_options(engine: AsyncEngine) -> dict[str, Any]:
    """Execution options for the connection of a read-only unit of work."""
    return POSTGRES_READS if engine.dialect.name == "postgresql" else {}


def _install_postgres_checkout(engine: AsyncEngine) -> None:
    # Instead of pool_pre_ping, which costs three round trips per checkout on
    # asyncpg (BEGIN, a ping, ROLLBACK): a connection the server closed (restart,
    # failover, idle kill) is known to asyncpg without asking, and the pool then
    # replaces it. A statement on a connection that died unnoticed fails, and
    # SQLAlchemy invalidates the whole pool on that disconnect error.
    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("connection closed by the server")


def _sqlite_engine(url: URL) -> AsyncEngine:
    in_memory = url.database in {None, "", ":memory:"}
    kwargs: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    if in_memory:
        from sqlalchemy.pool import StaticPool

        kwargs["poolclass"] = StaticPool
    engine = create_async_engine(url, **kwargs)
    _install_sqlite_hooks(engine, wal=not in_memory)
    _WRITER_TURNS[engine.sync_engine] = WriterTurns()
    return engine


def writer_turns(engine: AsyncEngine) -> WriterTurns | None:
    """The queue of an SQLite engine's write transactions; None on PostgreSQL."""
    return _WRITER_TURNS.get(engine.sync_engine)


def _install_sqlite_hooks(engine: AsyncEngine, *, wal: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; the
    # SQLAlchemy-documented recipe takes transaction control back.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE_INTENT, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database does not answer `SELECT 1`."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
