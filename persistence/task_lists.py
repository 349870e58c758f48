"""The task lists of the read side: everything visible, one project's tasks and
one user's assigned tasks, each for many parents in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select

from domain.access import Actor
from domain.models import Task, TaskRecord
from persistence import keyset
from persistence.projects import visible_projects
from persistence.tasks import TaskFilter, TaskOrder

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork

# Columns, not the mapped entity: the lists are read-only, and building and
# tracking ORM instances cost more than the rows (bench/README.md).
TASK_COLUMNS = [Task.__table__.c[name] for name in TaskRecord._fields]


@dataclass(frozen=True, slots=True)
class TaskListing:
    """One list's filter and order; `now` decides what is overdue, and `viewer`
    (when set) limits the list to the tasks that actor may see."""

    task_filter: TaskFilter
    order: TaskOrder
    now: datetime
    viewer: Actor | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions = self.task_filter.conditions(self.now)
        if self.viewer is not None:
            conditions.append(visible_projects(self.viewer, Task.project_id))
        return conditions

    def signature(self, scope: str) -> str:
        return self.order.ordering().signature(
            keyset.fingerprint(scope, self.task_filter)
        )


def _records(rows: Any) -> list[TaskRecord]:
    return [TaskRecord._make(row) for row in rows]


async def tasks_page(
    uow: SqlUnitOfWork, listing: TaskListing, request: keyset.PageRequest
) -> keyset.Page[TaskRecord]:
    ordering, signature = listing.order.ordering(), listing.signature("tasks")
    base = select(*TASK_COLUMNS).where(*listing.conditions())
    query, size = keyset.apply(base, ordering, signature, request)
    rows = _records(await uow.execute(query))
    return keyset.page_from_rows(rows, size, ordering, signature, request)


async def counted_tasks_page(
    uow: SqlUnitOfWork, listing: TaskListing, request: keyset.PageRequest
) -> tuple[keyset.Page[TaskRecord], int | None]:
    """The page and the count of the whole list (every page, no cursor) in one
    statement: the count rides on each row as an uncorrelated subquery, which both
    backends evaluate once. None when the page is empty after a cursor (no row to
    carry it); the caller counts on its own then."""
    ordering, signature = listing.order.ordering(), listing.signature("tasks")
    total = (
        select(func.count())
        .select_from(Task)
        .where(*listing.conditions())
        .correlate(None)
        .scalar_subquery()
    )
    base = select(*TASK_COLUMNS, total.label("total_count")).where(
        *listing.conditions()
    )
    query, size = keyset.apply(base, ordering, signature, request)
    rows = (await uow.execute(query)).all()
    page = keyset.page_from_rows(
        _records(row[:-1] for row in rows), size, ordering, signature, request
    )
    if rows:
        return page, int(rows[0][-1])
    from_start = request.after is None and request.before is None
    return page, 0 if from_start else None


async def count_tasks(uow: SqlUnitOfWork, listing: TaskListing) -> int:
    query = select(func.count()).select_from(Task).where(*listing.conditions())
    return int((await uow.execute(query)).scalar_one())


async def visible_tasks_by_ids(
    uow: SqlUnitOfWork, ids: Sequence[int], actor: Actor
) -> list[TaskRecord | None]:
    query = select(*TASK_COLUMNS).where(
        Task.id.in_(set(ids)), visible_projects(actor, Task.project_id)
    )
    found = {t.id: t for t in _records(await uow.execute(query))}
    return [found.get(i) for i in ids]


# Parent edges: Project.tasks (the caller sees the project, so every task of it) and
# User.assignedTasks (only tasks in projects the caller sees: listing.viewer).
PROJECT_TASKS = ("project.tasks", Task.project_id)
ASSIGNED_TASKS = ("user.assignedTasks", Task.assignee_id)


async def task_pages(
    uow: SqlUnitOfWork,
    edge: tuple[str, Any],
    parents: Sequence[int],
    listing: TaskListing,
    request: keyset.PageRequest,
) -> list[keyset.Page[TaskRecord]]:
    scope, parent = edge
    ordering, signature = listing.order.ordering(), listing.signature(scope)
    base = select(*TASK_COLUMNS).where(*listing.conditions())
    if len(parents) == 1:
        # One parent (the usual deep page): a plain keyset seek with LIMIT.
        query, size = keyset.apply(
            base.where(parent == parents[0]), ordering, signature, request
        )
        rows = _records(await uow.execute(query))
        return [keyset.page_from_rows(rows, size, ordering, signature, request)]
    query, size = keyset.apply_partitioned(
        base,
        None,
        parent,
        parents,
        ordering,
        signature,
        request,
        dialect=uow.dialect_name(),
    )
    found = [(TaskRecord._make(row[:-1]), row[-1]) for row in await uow.execute(query)]
    return keyset.pages_by_parent(found, parents, size, ordering, signature, request)


async def task_counts(
    uow: SqlUnitOfWork,
    edge: tuple[str, Any],
    parents: Sequence[int],
    listing: TaskListing,
) -> list[int]:
    _, parent = edge
    query = (
        select(parent, func.count())
        .where(parent.in_(parents), *listing.conditions())
        .group_by(parent)
    )
    counts = dict((await uow.execute(query)).all())
    return [int(counts.get(p, 0)) for p in parents]
