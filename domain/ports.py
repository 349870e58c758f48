"""What use cases need from the outside world, as Protocols; persistence and graph
provide the one real implementation of each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.models import IdempotencyKey, Project, ProjectRole, Task, User

if TYPE_CHECKING:
    from domain.task_events import TaskEventRecord
    from domain.tasks import BulkAccess, TaskPatch


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class UserRepository(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def with_live_session(self, user_id: int, session_id: str) -> User | None: ...


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
    def publish(self, event: TaskEventRecord) -> None: ...


class UnitOfWork(Protocol):
    """The request's transaction. Use cases add and flush; they never commit."""

    @property
    def users(self) -> UserRepository: ...

    def add(self, entity: object) -> None: ...

    async def flush(self) -> None: ...

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None: ...

    @property
    def projects(self) -> ProjectRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    def record_task_event(self, record: TaskEventRecord) -> None:
        """Queue an event for the publisher, released only after commit."""
