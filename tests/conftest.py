"""Fixtures: a real database per test (SQLite in memory, or PostgreSQL when
TRACKQL_TEST_DATABASE_URL is set), the app in-process, and an SQL statement counter."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from starlette.applications import Starlette

from domain.models import Base, User, utcnow
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.engine import create_engine, normalize_url
from persistence.migrate import upgrade
from tests import factories
from tests.mailbox import Mailbox
from tests.websocket import serve

# Empty counts as unset: the SQLite sessions of nox blank it out.
POSTGRES_URL = os.environ.get("TRACKQL_TEST_DATABASE_URL") or None
SECRET = "test-secret-key-that-is-long-enough-for-production"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if POSTGRES_URL is None:
        # Replaced per test by a fresh file (see `settings`): separate connections
        # behave as in production, which one shared in-memory connection does not.
        yield "sqlite+aiosqlite://"
        return
    # CI must fail, not skip, when PostgreSQL is unreachable: no try/except here.
    import asyncio

    name = f"trackql_test_{uuid.uuid4().hex[:12]}"
    admin_url = normalize_url(POSTGRES_URL)
    test_url = admin_url.set(database=name)
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    asyncio.run(_migrate(test_url.render_as_string(hide_password=False)))
    try:
        yield test_url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: Any, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


@pytest.fixture
def settings(database_url: str, is_postgres: bool, tmp_path: Path) -> Settings:
    if not is_postgres:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'trackql.db'}"
    return Settings(secret_key=SECRET, database_url=database_url, env="test")


class MovableClock:
    """Real time plus an offset that a test moves forward: expiries without sleeps."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def just_after_midnight(clock: MovableClock) -> None:
    """Start a second after midnight UTC, where every rate-limit window starts, so
    that no test straddles two windows."""
    now = clock()
    midnight = (now + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    clock.advance(midnight + timedelta(seconds=1) - now)


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """A local SMTP server, not yet listening; pass `mailbox.url` as smtp_url."""
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture
async def runtime(
    settings: Settings, is_postgres: bool, clock: MovableClock
) -> AsyncIterator[Runtime]:
    runtime = Runtime.build(settings, clock)
    yield runtime
    if is_postgres:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with runtime.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await runtime.close()


@pytest.fixture
async def app(settings: Settings, runtime: Runtime) -> AsyncIterator[Starlette]:
    app = create_app(settings, runtime)
    # httpx's ASGITransport does not run the lifespan; enter it ourselves.
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def url(app: Starlette) -> AsyncIterator[str]:
    """The app served by uvicorn on a loopback port: its WebSocket URL."""
    async with serve(app) as url:
        yield url


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


ClientFor = Callable[[Settings], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_for(app: Starlette, runtime: Runtime) -> ClientFor:
    """`async with client_for(settings) as c:` a client of an app built from other
    settings, on the same database (which `app` has migrated)."""

    @asynccontextmanager
    async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c

    return serve


@pytest.fixture
async def session(runtime: Runtime, app: Starlette) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; the factories write through it."""
    async with runtime.session_factory() as session:
        for factory in factories.ALL_FACTORIES:
            factory.__async_session__ = session
        yield session


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        headers = dict(self.headers)
        bearer = token or self.token
        if bearer:
            headers["authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def as_user(self, token: str) -> GraphQLClient:
        return GraphQLClient(self.http, token, self.headers)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def token_for(runtime: Runtime, session: AsyncSession) -> Any:
    """Issue an access token for a user, backed by a live session row."""

    async def issue(user: User) -> str:
        auth_session = await factories.AuthSessionFactory.create_async(user_id=user.id)
        return runtime.signer.issue(user.id, auth_session.id, runtime.clock())

    return issue


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)
    # The execution context each one's listeners got: None for a driver read.
    contexts: list[object] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(runtime: Runtime) -> Any:
    """`with count_statements() as log:` records every SQL statement sent."""

    @contextmanager
    def counting() -> Iterator[StatementLog]:
        log = StatementLog()

        def record(*args: Any) -> None:
            statement = args[2]
            if (
                not statement.lstrip()
                .upper()
                .startswith(("BEGIN", "SAVEPOINT", "RELEASE"))
            ):
                log.statements.append(statement)
                log.contexts.append(args[4])

        target = runtime.engine.sync_engine
        event.listen(target, "before_cursor_execute", record)
        try:
            yield log
        finally:
            event.remove(target, "before_cursor_execute", record)

    return counting
