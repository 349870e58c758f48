"""Per-request DataLoaders: every edge between objects is fetched in batches."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from functools import cached_property
from typing import Any, ParamSpec, TypeVar, cast

from strawberry.dataloader import Batch, DataLoader, DefaultCache, get_current_batch

from domain.access import Actor
from domain.models import (
    Project,
    ProjectMember,
    ProjectView,
    TaskRecord,
    User,
    UserView,
)
from persistence import accounts, projects, task_lists
from persistence.keyset import Page, PageRequest
from persistence.projects import ProjectFilter
from persistence.task_lists import ASSIGNED_TASKS, PROJECT_TASKS, TaskListing
from persistence.uow import SqlUnitOfWork

G = TypeVar("G", bound=Hashable)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
P = ParamSpec("P")
Members = list[tuple[ProjectMember, User]]
# A page of tasks per parent, whether to load the pages' assignees with them, and
# whether with their timestamps (see Loaders.users).
TaskPages = tuple[TaskListing, PageRequest, bool, bool]
ProjectPages = tuple[Actor, ProjectFilter, PageRequest]


class Loader(DataLoader[K, V]):
    """Strawberry's DataLoader with a cheaper path for many keys at once.

    Its load costs some ten Python calls per key (the cache's get and set through
    its key function, the current batch looked up again); a Q2 page asks for a
    hundred users and twenty pages. load_many takes the batch once and reads the
    default cache's dict directly, and awaits the keys' futures one after another
    instead of gathering them: they settle together with their batch, and
    gather's task and callbacks per key cost more than the batch's own Python."""

    def __init__(self, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        cache: DefaultCache[K, V] = DefaultCache()
        super().__init__(load_fn=load_fn, cache_map=cache)
        # Keyed by the keys themselves: the default cache has no key function.
        self._futures = cast("dict[K, asyncio.Future[V]]", cache.cache_map)

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        futures, loop = self._futures, self.loop
        batch: Batch[K, V] | None = None
        found: list[asyncio.Future[V]] = []
        for key in keys:
            future = futures.get(key)
            if future is None or future.cancelled():
                if batch is None:
                    batch = get_current_batch(self)
                future = futures[key] = loop.create_future()
                batch.add_task(key, future)
            found.append(future)
        return _each(found)

    def cached(self, key: K) -> asyncio.Future[V] | None:
        """The future of a key loaded or being loaded, as load would return it."""
        future = self._futures.get(key)
        return None if future is None or future.cancelled() else future


async def _each(futures: list[asyncio.Future[V]]) -> list[V]:
    try:
        return [await future for future in futures]
    except BaseException:
        # A failed batch failed every key: their errors count as seen, as gather
        # sees them, rather than logged as never retrieved.
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()
        raise


def assignee_ids(pages: Iterable[Page[TaskRecord]]) -> list[int]:
    """The users assigned to the tasks of some pages, each once."""
    found = {task.assignee_id for page in pages for task in page.rows}
    return [ident for ident in found if ident is not None]


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


def _weakly(method: Callable[P, Awaitable[V]]) -> Callable[P, Awaitable[V]]:
    """A batch function of Loaders that does not hold its Loaders. A loader whose
    batch function holds the Loaders that holds the loader is a reference cycle:
    the request's every loaded row would then wait for the garbage collector,
    whose passes over them cost Q2 more than a tenth of its time."""
    method_of = weakref.WeakMethod(method)

    async def call(*args: P.args, **kwargs: P.kwargs) -> V:
        bound = method_of()
        if bound is None:
            raise RuntimeError("a loader outlived its request's Loaders")
        return await bound(*args, **kwargs)

    return call


class Loaders:
    """Each loader is built on first use: most requests touch one or two of them."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow
        # GraphQL objects built from the users loaded (lookahead.load_now).
        self.converted_users: dict[tuple[object, int], tuple[object, Any]] = {}

    @cached_property
    def user(self) -> Loader[int, UserView | None]:
        return Loader(load_fn=_weakly(self._users))

    @cached_property
    def undated_user(self) -> Loader[int, UserView | None]:
        """Users whose timestamps are None: the owners and assignees of a page whose
        response shows neither."""
        return Loader(load_fn=_weakly(self._undated_users))

    def users(self, dated: bool) -> Loader[int, UserView | None]:
        return self.user if dated else self.undated_user

    @cached_property
    def project(self) -> Loader[int, ProjectView | None]:
        return Loader(load_fn=_weakly(self._projects))

    @cached_property
    def visible_project(self) -> Loader[tuple[int, Actor], Project | None]:
        return Loader(load_fn=by_group(_weakly(self._visible_projects)))

    @cached_property
    def visible_task(self) -> Loader[tuple[int, Actor], TaskRecord | None]:
        return Loader(load_fn=by_group(_weakly(self._visible_tasks)))

    @cached_property
    def members(self) -> Loader[int, Members]:
        return Loader(load_fn=_weakly(self._members))

    @cached_property
    def project_tasks(self) -> Loader[tuple[int, TaskPages], Page[TaskRecord]]:
        return Loader(load_fn=by_group(_weakly(self._project_tasks)))

    @cached_property
    def project_task_count(self) -> Loader[tuple[int, TaskListing], int]:
        return Loader(load_fn=by_group(_weakly(self._project_counts)))

    @cached_property
    def assigned_tasks(self) -> Loader[tuple[int, TaskPages], Page[TaskRecord]]:
        return Loader(load_fn=by_group(_weakly(self._assigned_tasks)))

    @cached_property
    def assigned_task_count(self) -> Loader[tuple[int, TaskListing], int]:
        return Loader(load_fn=by_group(_weakly(self._assigned_counts)))

    @cached_property
    def user_projects(self) -> Loader[tuple[int, ProjectPages], Page[Project]]:
        return Loader(load_fn=by_group(_weakly(self._user_projects)))

    @cached_property
    def user_project_count(
        self,
    ) -> Loader[tuple[int, tuple[Actor, ProjectFilter]], int]:
        return Loader(load_fn=by_group(_weakly(self._user_counts)))

    async def _users(self, ids: Sequence[int]) -> Sequence[UserView | None]:
        return await accounts.users_by_ids(self.uow, ids)

    async def _undated_users(self, ids: Sequence[int]) -> Sequence[UserView | None]:
        return await accounts.users_by_ids(self.uow, ids, dated=False)

    async def _projects(self, ids: Sequence[int]) -> list[Project | None]:
        return await projects.projects_by_ids(self.uow, ids)

    async def _visible_projects(
        self, ids: list[int], actor: Actor
    ) -> list[Project | None]:
        return await projects.visible_projects_by_ids(self.uow, ids, actor)

    async def _visible_tasks(
        self, ids: list[int], actor: Actor
    ) -> list[TaskRecord | None]:
        return await task_lists.visible_tasks_by_ids(self.uow, ids, actor)

    async def _members(self, project_ids: Sequence[int]) -> list[Members]:
        """Members come with their users, which then need no query of their own."""
        found = await projects.members_of(self.uow, project_ids)
        for members in found:
            for _, user in members:
                self.user.prime(user.id, user)
        return found

    async def _project_tasks(
        self, ids: list[int], spec: TaskPages
    ) -> list[Page[TaskRecord]]:
        return await self._task_pages(PROJECT_TASKS, ids, spec)

    async def _project_counts(self, ids: list[int], listing: TaskListing) -> list[int]:
        return await task_lists.task_counts(self.uow, PROJECT_TASKS, ids, listing)

    async def _assigned_tasks(
        self, ids: list[int], spec: TaskPages
    ) -> list[Page[TaskRecord]]:
        return await self._task_pages(ASSIGNED_TASKS, ids, spec)

    async def _task_pages(
        self, edge: tuple[str, Any], ids: list[int], spec: TaskPages
    ) -> list[Page[TaskRecord]]:
        listing, request, with_assignees, dated = spec
        pages = await task_lists.task_pages(self.uow, edge, ids, listing, request)
        if with_assignees:
            # Before the pages are handed out: the connections of 20 projects then
            # answer each `assignee` from the cache, none of them awaiting a batch.
            await self.users(dated).load_many(assignee_ids(pages))
        return pages

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
