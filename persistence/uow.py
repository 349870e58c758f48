"""The unit of work: one AsyncSession per request, statements serialised, a savepoint
per mutation field, and callbacks released only after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Executable, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from domain.errors import ServiceUnavailable
from domain.models import Base
from domain.ports import TaskEventPublisher
from domain.task_events import NoTaskEventPublisher, TaskEventRecord
from persistence.accounts import (
    LoginThrottleRepository,
    OneTimeTokenRepository,
    RefreshTokenRepository,
    SessionRepository,
    UserRepository,
)
from persistence.driver_pool import DriverPool
from persistence.driver_reads import driver_read
from persistence.engine import WRITE_INTENT, WriterTurns, read_options, writer_turns
from persistence.idempotency import IdempotencyStore
from persistence.outbox import Notify, OutboxRepository
from persistence.projects import ProjectRepository
from persistence.rate_limits import RateLimitCounterRepository
from persistence.tasks import TaskRepository

log = logging.getLogger(__name__)
T = TypeVar("T")


class SqlUnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        writes: bool = False,
        drivers: DriverPool | None = None,
        task_events: TaskEventPublisher | None = None,
        notify_mail: Notify | None = None,
    ) -> None:
        self._factory = session_factory
        bind = session_factory.kw.get("bind")
        self._engine = bind if isinstance(bind, AsyncEngine) else None
        self._session: AsyncSession | None = None
        # The connection of the current transaction, for rows().
        self._connection: AsyncConnection | None = None
        # Set when a read-only unit of work took its connection from the engine, and
        # owns it: its session, if an ORM read needs one, is bound to it.
        self._read_connection: AsyncConnection | None = None
        # PostgreSQL reads send their marked statements on these instead.
        self._drivers = None if self._engine is None else drivers
        # SQLite's queue of write transactions, while this one holds its turn.
        self._turn: WriterTurns | None = None
        # Sibling resolvers and loader batches run concurrently on the event loop; an
        # AsyncSession must not, so every statement waits its turn here.
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        # One flag per open savepoint: keep its writes even if its block fails.
        self._keep: list[bool] = []
        # Per open savepoint: statements to run again if it rolls back.
        self._replays: list[list[Executable]] = []
        self.writes = writes
        self.users = UserRepository(self)
        self.projects = ProjectRepository(self)
        self.tasks = TaskRepository(self)
        self.idempotency = IdempotencyStore(self)
        self._task_events = task_events or NoTaskEventPublisher()
        self.sessions = SessionRepository(self)
        self.refresh_tokens = RefreshTokenRepository(self)
        self.one_time_tokens = OneTimeTokenRepository(self)
        self.throttles = LoginThrottleRepository(self)
        self.rate_limits = RateLimitCounterRepository(self)
        self.outbox = OutboxRepository(self, notify_mail)

    def _current(self) -> AsyncSession:
        if self._session is None:
            reading = self._read_connection
            self._session = (
                self._factory() if reading is None else self._factory(bind=reading)
            )
        return self._session

    async def _open(self) -> AsyncSession:
        if self._session is None and self._reads_from_engine():
            await self._connect()
        session = self._current()
        if self._read_connection is None and not session.in_transaction():
            options: dict[str, Any] = {}
            if self.writes:
                await self._take_turn()
                options[WRITE_INTENT] = True
            self._connection = await session.connection(execution_options=options)
        return session

    async def _take_turn(self) -> None:
        turns = None if self._engine is None else writer_turns(self._engine)
        if turns is not None and self._turn is None:
            await turns.take()
            self._turn = turns

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.give_back()

    def _reads_from_engine(self) -> AsyncEngine | None:
        return None if self.writes else self._engine

    async def _connect(self) -> AsyncConnection:
        """The transaction's connection. A read-only unit of work takes it straight
        from the engine and makes a session only for an ORM read: opening and
        closing a session costs about as much as a short statement."""
        engine = None if self._session is not None else self._reads_from_engine()
        if engine is not None and self._read_connection is None:
            connection = await engine.connect()
            try:
                await connection.execution_options(**read_options(engine))
                await connection.begin()
            except BaseException:
                await connection.close()
                raise
            self._connection = self._read_connection = connection
        elif self._read_connection is None:
            await self._open()
        assert self._connection is not None
        return self._connection

    async def _serialised(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def locked() -> T:
            async with self._lock:
                return await work(await self._open())

        return await _run_to_end(locked())

    async def execute(
        self, statement: Executable, **kwargs: Any
    ) -> Result[*tuple[Any, ...]]:
        return await self._serialised(lambda s: s.execute(statement, **kwargs))

    async def rows(
        self, statement: Executable, params: dict[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]:
        """The rows of a statement that selects columns, not ORM entities, run on
        the transaction's connection: the session's execute (ORM compile state,
        identity map) costs more than a short statement itself. The sessions do not
        autoflush, so both see the same rows."""

        async def locked() -> Result[*tuple[Any, ...]]:
            async with self._lock:
                found = await self._on_the_driver(statement, params)
                if found is not None:
                    return found
                connection = await self._connect()
                return await connection.execute(statement, params)

        return await _run_to_end(locked())

    async def _on_the_driver(
        self, statement: Executable, params: dict[str, Any] | None
    ) -> Result[*tuple[Any, ...]] | None:
        """The rows from asyncpg itself, for a marked statement of a PostgreSQL
        read. None otherwise, or when no driver connection is free or the statement
        failed on it, for SQLAlchemy to run the statement and fail its own way: its
        exception types (which graph/errors.py maps), and the pool's invalidation
        after a disconnect."""
        drivers = self._drivers
        if drivers is None or self.writes:
            return None
        assert self._engine is not None
        read = driver_read(statement, self._engine.dialect)
        if read is None:
            return None
        held = await drivers.acquire()
        if held is None:
            return None
        try:
            found = await read.run(self._engine.sync_engine, held.connection, params)
        except BaseException as failure:
            drivers.release(held, failure=failure)
            if not isinstance(failure, Exception):
                raise
            log.debug("driver read failed; SQLAlchemy runs it again", exc_info=True)
            return None
        drivers.release(held)
        return found

    async def get(self, model: type[T], ident: Any) -> T | None:
        return await self._serialised(lambda s: s.get(model, ident))

    def add(self, entity: object) -> None:
        self._current().add(entity)

    async def flush(self) -> None:
        await self._serialised(lambda s: s.flush())

    async def insert(self, entity: object) -> None:
        """Insert and flush one entity in a savepoint of its own, so that a violated
        constraint leaves the transaction usable for the error that follows."""
        async with self._lock:
            session = await self._open()
            async with session.begin_nested():
                session.add(entity)
                await session.flush()

    def dialect_name(self) -> str:
        if self._engine is not None:
            return self._engine.dialect.name
        return self._current().get_bind().dialect.name

    async def insert_or_ignore(self, model: type[Base], **values: Any) -> None:
        """INSERT that does nothing when the primary key exists (an atomic upsert
        on both backends, where check-then-insert would race)."""
        async with self._lock:
            session = await self._open()
            statement: Executable
            if self.dialect_name() == "postgresql":
                statement = postgresql.insert(model).values(**values)
                statement = statement.on_conflict_do_nothing()
            else:
                statement = sqlite.insert(model).values(**values)
                statement = statement.on_conflict_do_nothing()
            await session.execute(statement)

    async def delete(self, entity: object) -> None:
        await self._serialised(lambda s: s.delete(entity))

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Run a block all-or-nothing inside the request's transaction."""
        async with self._lock:
            session = await self._open()
            nested = await session.begin_nested()
        marker = len(self._after_commit)
        self._keep.append(False)
        self._replays.append([])
        try:
            yield
            async with self._lock:
                await session.flush()
                await nested.commit()
        except BaseException:
            keep = self._keep[-1]
            async with self._lock:
                if keep and nested.is_active:
                    await session.flush()
                    await nested.commit()
                else:
                    # A failed flush leaves the savepoint deactivated (is_active
                    # False) but still open: it needs this rollback too.
                    if session.sync_session.get_nested_transaction() is (
                        nested.sync_transaction
                    ):
                        await nested.rollback()
                    for statement in self._replays[-1]:
                        await session.execute(statement)
            if not keep:
                del self._after_commit[marker:]
            raise
        finally:
            self._keep.pop()
            survivors = self._replays.pop()
            if self._replays:
                self._replays[-1].extend(survivors)

    def keep_on_error(self) -> None:
        if self._keep:
            self._keep[-1] = True

    def replay_on_rollback(self, statement: Executable) -> None:
        """Run `statement` again in the enclosing transaction if the savepoint it
        ran in rolls back: a rate-limit hit counts even when its field fails."""
        if self._replays:
            self._replays[-1].append(statement)

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    def record_task_event(self, record: TaskEventRecord) -> None:
        publisher = self._task_events

        async def release() -> None:
            await publisher.publish(record)

        # Queued like any after-commit work: a savepoint that rolls back drops it.
        self.after_commit(release)

    async def commit(self) -> None:
        if self._session is not None:
            async with self._lock:
                try:
                    await self._session.commit()
                except PendingRollbackError as exc:
                    # A failed statement rolls back its field's savepoint; only a
                    # connection lost mid-transaction leaves nothing to commit on.
                    raise ServiceUnavailable() from exc
                self._end_turn()
        reading = self._read_connection
        if reading is not None and reading.in_transaction():
            async with self._lock:
                await reading.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                # The change is committed; a failed notification must not undo the
                # answer. Outbox-backed work retries on its own.
                log.exception("after-commit callback failed")

    async def close(self) -> None:
        self._after_commit.clear()
        # Statements whose callers were cancelled may still be running or waiting
        # their turn (see _run_to_end): they finish on this transaction, which
        # closes after them, instead of opening another that nothing would close.
        async with self._lock:
            session, self._session = self._session, None
            reading, self._read_connection = self._read_connection, None
            self._connection = None
            try:
                if session is not None:
                    await session.close()
            finally:
                self._end_turn()
            if reading is not None:
                await reading.close()


async def _run_to_end(work: Awaitable[T]) -> T:
    # graphql-core cancels sibling resolvers when a non-null field fails. A
    # statement cancelled mid-flight would invalidate the connection, and with
    # it the request's transaction, so a started statement runs to its end.
    return await asyncio.shield(work)
