"""What use cases need from the outside world, as Protocols; persistence and graph
provide the one real implementation of each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from domain.models import (
    AuthSession,
    LoginThrottle,
    OneTimeToken,
    RefreshToken,
    TokenPurpose,
    User,
)


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def with_live_session(self, user_id: int, session_id: str) -> User | None: ...

    async def add(self, user: User) -> None:
        """Insert and flush; an email taken meanwhile raises Conflict."""


class SessionRepository(Protocol):
    async def get(self, session_id: str) -> AuthSession | None: ...

    async def revoke_all(self, user_id: int, now: datetime) -> None: ...


class RefreshTokenRepository(Protocol):
    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        """The token, locked against a concurrent rotation."""


class OneTimeTokenRepository(Protocol):
    async def by_hash(
        self, token_hash: str, purpose: TokenPurpose
    ) -> OneTimeToken | None: ...

    async def void_unused(self, user_id: int, purpose: TokenPurpose) -> None: ...


class LoginThrottleRepository(Protocol):
    async def get(self, email: str) -> LoginThrottle | None: ...

    async def locked_row(self, email: str, now: datetime) -> LoginThrottle:
        """The row for an email, created if missing, locked until the transaction
        ends so that concurrent failures count one by one."""

    async def clear(self, email: str) -> None: ...


class Outbox(Protocol):
    def enqueue(self, to: str, subject: str, body: str) -> None:
        """Write a mail in this transaction; it is delivered after the commit."""


class UnitOfWork(Protocol):
    """The request's transaction. Use cases add and flush; they never commit."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def one_time_tokens(self) -> OneTimeTokenRepository: ...

    @property
    def throttles(self) -> LoginThrottleRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    def add(self, entity: object) -> None: ...

    async def flush(self) -> None: ...

    def keep_on_error(self) -> None:
        """Keep this mutation's writes even though it is about to fail: a failed
        login must still count, a replayed refresh token must still revoke."""

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None: ...
