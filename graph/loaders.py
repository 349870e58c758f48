"""Per-request DataLoaders: every edge between objects is fetched in batches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from strawberry.dataloader import DataLoader

from domain.access import Actor
from domain.models import Project, ProjectMember, Task, User
from persistence import accounts, projects, task_lists
from persistence.keyset import Page, PageRequest
from persistence.projects import ProjectFilter
from persistence.task_lists import ASSIGNED_TASKS, PROJECT_TASKS, TaskListing
from persistence.uow import SqlUnitOfWork

G = TypeVar("G", bound=Hashable)
V = TypeVar("V")
Members = list[tuple[ProjectMember, User]]
TaskPages = tuple[TaskListing, PageRequest]
ProjectPages = tuple[Actor, ProjectFilter, PageRequest]


def by_group(
    fetch: Callable[[list[int], G], Awaitable[list[V]]],
) -> Callable[[Sequence[tuple[int, G]]], Awaitable[list[V]]]:
    """A batch function for keys (parent id, group): one fetch per distinct group
    (in practice one per request: same filter, order, page size and viewer)."""

    async def load(keys: Sequence[tuple[int, G]]) -> list[V]:
        groups: dict[G, dict[int, None]] = {}
        for parent, group in keys:
            groups.setdefault(group, {})[parent] = None
        found: dict[tuple[int, G], V] = {}
        for group, parents in groups.items():
            ids = list(parents)
            for parent, value in zip(ids, await fetch(ids, group), strict=True):
                found[(parent, group)] = value
        return [found[key] for key in keys]

    return load


@dataclass
class Loaders:
    uow: SqlUnitOfWork
    user: DataLoader[int, User | None] = field(init=False)
    project: DataLoader[int, Project | None] = field(init=False)
    visible_project: DataLoader[tuple[int, Actor], Project | None] = field(init=False)
    visible_task: DataLoader[tuple[int, Actor], Task | None] = field(init=False)
    members: DataLoader[int, Members] = field(init=False)
    project_tasks: DataLoader[tuple[int, TaskPages], Page[Task]] = field(init=False)
    project_task_count: DataLoader[tuple[int, TaskListing], int] = field(init=False)
    assigned_tasks: DataLoader[tuple[int, TaskPages], Page[Task]] = field(init=False)
    assigned_task_count: DataLoader[tuple[int, TaskListing], int] = field(init=False)
    user_projects: DataLoader[tuple[int, ProjectPages], Page[Project]] = field(
        init=False
    )
    user_project_count: DataLoader[tuple[int, tuple[Actor, ProjectFilter]], int] = (
        field(init=False)
    )

    def __post_init__(self) -> None:
        self.user = DataLoader(load_fn=self._users)
        self.project = DataLoader(load_fn=self._projects)
        self.visible_project = DataLoader(load_fn=by_group(self._visible_projects))
        self.visible_task = DataLoader(load_fn=by_group(self._visible_tasks))
        self.members = DataLoader(load_fn=self._members)
        self.project_tasks = DataLoader(load_fn=by_group(self._project_tasks))
        self.project_task_count = DataLoader(load_fn=by_group(self._project_counts))
        self.assigned_tasks = DataLoader(load_fn=by_group(self._assigned_tasks))
        self.assigned_task_count = DataLoader(load_fn=by_group(self._assigned_counts))
        self.user_projects = DataLoader(load_fn=by_group(self._user_projects))
        self.user_project_count = DataLoader(load_fn=by_group(self._user_counts))

    async def _users(self, ids: Sequence[int]) -> list[User | None]:
        return await accounts.users_by_ids(self.uow, ids)

    async def _projects(self, ids: Sequence[int]) -> list[Project | None]:
        return await projects.projects_by_ids(self.uow, ids)

    async def _visible_projects(
        self, ids: list[int], actor: Actor
    ) -> list[Project | None]:
        return await projects.visible_projects_by_ids(self.uow, ids, actor)

    async def _visible_tasks(self, ids: list[int], actor: Actor) -> list[Task | None]:
        return await task_lists.visible_tasks_by_ids(self.uow, ids, actor)

    async def _members(self, project_ids: Sequence[int]) -> list[Members]:
        """Members come with their users, which then need no query of their own."""
        found = await projects.members_of(self.uow, project_ids)
        for members in found:
            for _, user in members:
                self.user.prime(user.id, user)
        return found

    async def _project_tasks(self, ids: list[int], spec: TaskPages) -> list[Page[Task]]:
        return await task_lists.task_pages(self.uow, PROJECT_TASKS, ids, *spec)

    async def _project_counts(self, ids: list[int], listing: TaskListing) -> list[int]:
        return await task_lists.task_counts(self.uow, PROJECT_TASKS, ids, listing)

    async def _assigned_tasks(
        self, ids: list[int], spec: TaskPages
    ) -> list[Page[Task]]:
        return await task_lists.task_pages(self.uow, ASSIGNED_TASKS, ids, *spec)

    async def _assigned_counts(self, ids: list[int], listing: TaskListing) -> list[int]:
        return await task_lists.task_counts(self.uow, ASSIGNED_TASKS, ids, listing)

    async def _user_projects(
        self, ids: list[int], spec: ProjectPages
    ) -> list[Page[Project]]:
        return await projects.member_project_pages(self.uow, ids, *spec)

    async def _user_counts(
        self, ids: list[int], spec: tuple[Actor, ProjectFilter]
    ) -> list[int]:
        return await projects.count_member_projects(self.uow, ids, *spec)
