"""What use cases need from the outside world, as Protocols; persistence and graph
provide the one real implementation of each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from domain.models import User


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def with_live_session(self, user_id: int, session_id: str) -> User | None: ...


class UnitOfWork(Protocol):
    """The request's transaction. Use cases add and flush; they never commit."""

    @property
    def users(self) -> UserRepository: ...

    def add(self, entity: object) -> None: ...

    async def flush(self) -> None: ...

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None: ...
