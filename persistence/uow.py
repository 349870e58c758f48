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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.models import Base
from persistence.accounts import (
    LoginThrottleRepository,
    OneTimeTokenRepository,
    RefreshTokenRepository,
    SessionRepository,
    UserRepository,
)
from persistence.engine import WRITE_INTENT
from persistence.outbox import Notify, OutboxRepository

log = logging.getLogger(__name__)
T = TypeVar("T")


class SqlUnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        writes: bool = False,
        notify_mail: Notify | None = None,
    ) -> None:
        self._factory = session_factory
        self._session: AsyncSession | None = None
        # Sibling resolvers and loader batches run concurrently on the event loop; an
        # AsyncSession must not, so every statement waits its turn here.
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        # One flag per open savepoint: keep its writes even if its block fails.
        self._keep: list[bool] = []
        self.writes = writes
        self.users = UserRepository(self)
        self.sessions = SessionRepository(self)
        self.refresh_tokens = RefreshTokenRepository(self)
        self.one_time_tokens = OneTimeTokenRepository(self)
        self.throttles = LoginThrottleRepository(self)
        self.outbox = OutboxRepository(self, notify_mail)

    def _current(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
        return self._session

    async def _open(self) -> AsyncSession:
        session = self._current()
        if self.writes and not session.in_transaction():
            await session.connection(execution_options={WRITE_INTENT: True})
        return session

    async def execute(self, statement: Executable, **kwargs: Any) -> Result[Any]:
        async with self._lock:
            session = await self._open()
            return await session.execute(statement, **kwargs)

    async def get(self, model: type[T], ident: Any) -> T | None:
        async with self._lock:
            session = await self._open()
            return await session.get(model, ident)

    def add(self, entity: object) -> None:
        self._current().add(entity)

    async def flush(self) -> None:
        async with self._lock:
            session = await self._open()
            await session.flush()

    async def insert(self, entity: object) -> None:
        """Insert and flush one entity in a savepoint of its own, so that a violated
        constraint leaves the transaction usable for the error that follows."""
        async with self._lock:
            session = await self._open()
            async with session.begin_nested():
                session.add(entity)
                await session.flush()

    async def insert_or_ignore(self, model: type[Base], **values: Any) -> None:
        """INSERT that does nothing when the primary key exists (an atomic upsert
        on both backends, where check-then-insert would race)."""
        async with self._lock:
            session = await self._open()
            statement: Executable
            if (await session.connection()).dialect.name == "postgresql":
                statement = postgresql.insert(model).values(**values)
                statement = statement.on_conflict_do_nothing()
            else:
                statement = sqlite.insert(model).values(**values)
                statement = statement.on_conflict_do_nothing()
            await session.execute(statement)

    async def delete(self, entity: object) -> None:
        async with self._lock:
            session = await self._open()
            await session.delete(entity)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Run a block all-or-nothing inside the request's transaction."""
        async with self._lock:
            session = await self._open()
            nested = await session.begin_nested()
        marker = len(self._after_commit)
        self._keep.append(False)
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
                elif nested.is_active:
                    await nested.rollback()
            if not keep:
                del self._after_commit[marker:]
            raise
        finally:
            self._keep.pop()

    def keep_on_error(self) -> None:
        if self._keep:
            self._keep[-1] = True

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        if self._session is not None:
            async with self._lock:
                await self._session.commit()
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
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
