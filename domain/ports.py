"""What use cases need from the outside world, as Protocols; persistence and graph
provide the one real implementation of each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.models import (
    AuthSession,
    IdempotencyKey,
    LoginThrottle,
    OneTimeToken,
    Project,
    ProjectRole,
    RefreshToken,
    Task,
    TokenPurpose,
    User,
    UserRecord,
)

if TYPE_CHECKING:
    from domain.task_events import TaskEventRecord
    from domain.tasks import BulkAccess, TaskPatch


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def with_live_session(
        self, user_id: int, session_id: str, also: Collection[int] = ()
    ) -> tuple[UserRecord | None, dict[int, UserRecord]]:
        """The user, if the session has not been revoked; and those of the users
        `also` names that exist, by id, read in the same round trip."""

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


class RateLimitCounters(Protocol):
    async def hit(self, bucket: str, window_start: datetime) -> int:
        """Count one hit in the bucket's window, atomically, and return the
        window's hits so far. The hit stays counted even when the mutation that
        made it fails."""

    async def hits(self, bucket: str, window_start: datetime) -> int:
        """The window's hits so far, without counting one."""

    async def prune(self, before: datetime) -> int:
        """Delete the counters of windows that started before `before`."""


class Outbox(Protocol):
    def enqueue(self, to: str, subject: str, body: str) -> None:
        """Write a mail in this transaction; it is delivered after the commit."""


class ProjectRepository(Protocol):
    async def with_role(
        self, project_id: int, user_id: int
    ) -> tuple[Project, ProjectRole | None] | None:
        """The project and `user_id`'s role in it, in one read."""

    async def member_roles(
        self, project_ids: Sequence[int], user_id: int
    ) -> dict[int, ProjectRole]: ...

    async def save(self, project: Project) -> None:
        """Flush; CONFLICT if the row changed since it was read."""

    async def delete(self, project_id: int) -> None: ...

    async def remove_member(self, project_id: int, user_id: int) -> None: ...


class TaskRepository(Protocol):
    async def with_access(
        self, task_id: int, user_id: int
    ) -> tuple[Task, Project, ProjectRole | None] | None:
        """The task, its project and `user_id`'s role in that project."""

    async def save(self, task: Task) -> None:
        """Flush; CONFLICT if the row changed since it was read."""

    async def delete(self, task_id: int) -> None: ...

    async def by_ids(self, task_ids: Sequence[int]) -> list[Task]:
        """The tasks that still exist, in the order of `task_ids`."""

    async def bulk_access(
        self, task_ids: Sequence[int], user_id: int, assignee_id: int | None
    ) -> list[BulkAccess]: ...

    async def bulk_update(
        self, task_ids: Sequence[int], patch: TaskPatch, now: datetime
    ) -> list[Task]: ...

    async def unassign_open(
        self, project_id: int, user_id: int, now: datetime
    ) -> list[Task]: ...


class IdempotencyStore(Protocol):
    async def find(
        self, user_id: int, key: str, not_before: datetime
    ) -> IdempotencyKey | None:
        """The key's record if it is younger than `not_before`; older ones are
        forgotten."""

    async def remember(self, record: IdempotencyKey) -> None:
        """Store a key; CONFLICT if a concurrent request stored it first."""


class TaskEventPublisher(Protocol):
    async def publish(self, event: TaskEventRecord) -> None:
        """Called after commit, one event at a time, in the order recorded."""


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
    def rate_limits(self) -> RateLimitCounters: ...

    @property
    def outbox(self) -> Outbox: ...

    def add(self, entity: object) -> None: ...

    async def flush(self) -> None: ...

    def keep_on_error(self) -> None:
        """Keep this mutation's writes even though it is about to fail: a failed
        login must still count, a replayed refresh token must still revoke."""

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None: ...

    @property
    def projects(self) -> ProjectRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    def record_task_event(self, record: TaskEventRecord) -> None:
        """Queue an event for the publisher, released only after commit."""
