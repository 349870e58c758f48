"""The task lists of the read side: everything visible, one project's tasks and
one user's assigned tasks, each for many parents in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    func,
    null,
    select,
)

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
# The columns a list reads as NULL unless its response shows them: the driver
# builds a datetime for each timestamp of each row (a sixth of Q2's instructions
# for four of them), and a description may be long.
OPTIONAL_COLUMNS = frozenset(
    {"description", "completed_at", "due_date", "created_at", "updated_at"}
)
# What changes from one request to the next is bound at execution, so that a
# list's statement can be built once and reused (see _statement).
NOW: BindParameter[datetime] = bindparam("now")
PARENTS, PARENT = "page_parents", "page_parent"


Shape = tuple[TaskFilter, TaskOrder, Actor | None]


@dataclass(frozen=True, slots=True)
class TaskListing:
    """One list's filter and order; `now` decides what is overdue, `viewer`
    (when set) limits the list to the tasks that actor may see, and `shown` names
    the optional columns its rows carry (the others are None)."""

    task_filter: TaskFilter
    order: TaskOrder
    now: datetime
    viewer: Actor | None = None
    shown: frozenset[str] = OPTIONAL_COLUMNS

    def conditions(self) -> list[ColumnElement[bool]]:
        """Bound to `now` by name: execute with params()."""
        return _conditions(self.shape())

    def signature(self, scope: str) -> str:
        return _signature(scope, self.shape())

    def params(self) -> dict[str, Any]:
        return {"now": self.now}

    def shape(self) -> Shape:
        """Everything a statement depends on: `now` is bound at execution."""
        return (self.task_filter, self.order, self.viewer)


def _conditions(shape: Shape) -> list[ColumnElement[bool]]:
    task_filter, _, viewer = shape
    conditions = task_filter.conditions(NOW)
    if viewer is not None:
        conditions.append(visible_projects(viewer, Task.project_id))
    return conditions


def _signature(scope: str, shape: Shape) -> str:
    task_filter, order, _ = shape
    return order.ordering().signature(keyset.fingerprint(scope, task_filter))


def _columns(shown: frozenset[str]) -> list[Any]:
    return [
        null().label(column.name)
        if column.name in OPTIONAL_COLUMNS and column.name not in shown
        else column
        for column in TASK_COLUMNS
    ]


def _records(rows: Any) -> list[TaskRecord]:
    return [TaskRecord._make(row) for row in rows]


async def tasks_page(
    uow: SqlUnitOfWork, listing: TaskListing, request: keyset.PageRequest
) -> keyset.Page[TaskRecord]:
    ordering, signature = listing.order.ordering(), listing.signature("tasks")
    query, size = keyset.reused(
        _list_statement, request, listing.shape(), listing.shown, False
    )
    rows = _records(await uow.rows(query, listing.params()))
    return keyset.page_from_rows(rows, size, ordering, signature, request)


async def counted_tasks_page(
    uow: SqlUnitOfWork, listing: TaskListing, request: keyset.PageRequest
) -> tuple[keyset.Page[TaskRecord], int | None]:
    """The page and the count of the whole list (every page, no cursor) in one
    statement: the count rides on each row as an uncorrelated subquery, which both
    backends evaluate once. None when the page is empty after a cursor (no row to
    carry it); the caller counts on its own then."""
    ordering, signature = listing.order.ordering(), listing.signature("tasks")
    query, size = keyset.reused(
        _list_statement, request, listing.shape(), listing.shown, True
    )
    rows = (await uow.rows(query, listing.params())).all()
    page = keyset.page_from_rows(
        _records(row[:-1] for row in rows), size, ordering, signature, request
    )
    if rows:
        return page, int(rows[0][-1])
    from_start = request.after is None and request.before is None
    return page, 0 if from_start else None


@lru_cache(maxsize=256)
def _list_statement(
    shape: Shape, shown: frozenset[str], counted: bool, request: keyset.PageRequest
) -> tuple[Select[Any], int]:
    _, order, _ = shape
    columns = _columns(shown)
    if counted:
        total = (
            select(func.count())
            .select_from(Task)
            .where(*_conditions(shape))
            .correlate(None)
            .scalar_subquery()
        )
        columns.append(total.label("total_count"))
    base = select(*columns).where(*_conditions(shape))
    return keyset.apply(base, order.ordering(), _signature("tasks", shape), request)


async def count_tasks(uow: SqlUnitOfWork, listing: TaskListing) -> int:
    query = select(func.count()).select_from(Task).where(*listing.conditions())
    return int((await uow.rows(query, listing.params())).scalar_one())


async def visible_tasks_by_ids(
    uow: SqlUnitOfWork, ids: Sequence[int], actor: Actor
) -> list[TaskRecord | None]:
    query = select(*TASK_COLUMNS).where(
        Task.id.in_(set(ids)), visible_projects(actor, Task.project_id)
    )
    found = {t.id: t for t in _records(await uow.rows(query))}
    return [found.get(i) for i in ids]


# Parent edges: Project.tasks (the caller sees the project, so every task of it) and
# User.assignedTasks (only tasks in projects the caller sees: listing.viewer).
PROJECT_TASKS = ("project.tasks", Task.project_id)
ASSIGNED_TASKS = ("user.assignedTasks", Task.assignee_id)
_PARENT_COLUMNS: dict[str, Any] = dict([PROJECT_TASKS, ASSIGNED_TASKS])


async def task_pages(
    uow: SqlUnitOfWork,
    edge: tuple[str, Any],
    parents: Sequence[int],
    listing: TaskListing,
    request: keyset.PageRequest,
) -> list[keyset.Page[TaskRecord]]:
    scope, _ = edge
    ordering, signature = listing.order.ordering(), listing.signature(scope)
    many = len(parents) > 1
    query, size = keyset.reused(
        _page_statement,
        request,
        scope,
        listing.shape(),
        listing.shown,
        many,
        uow.dialect_name(),
    )
    params = {**listing.params(), PARENTS: list(parents), PARENT: parents[0]}
    rows = await uow.rows(query, params)
    if not many:
        found = _records(rows)
        return [keyset.page_from_rows(found, size, ordering, signature, request)]
    pairs = [(TaskRecord._make(row[:-1]), row[-1]) for row in rows]
    return keyset.pages_by_parent(pairs, parents, size, ordering, signature, request)


@lru_cache(maxsize=256)
def _page_statement(
    scope: str,
    shape: Shape,
    shown: frozenset[str],
    many: bool,
    dialect: str,
    request: keyset.PageRequest,
) -> tuple[Select[Any], int]:
    """Pages of one shape for any parents, which are bound at execution."""
    _, order, _ = shape
    parent = _PARENT_COLUMNS[scope]
    ordering, signature = order.ordering(), _signature(scope, shape)
    base = select(*_columns(shown)).where(*_conditions(shape))
    if not many:
        # One parent (the usual deep page): a plain keyset seek with LIMIT.
        one = base.where(parent == bindparam(PARENT))
        return keyset.apply(one, ordering, signature, request)
    return keyset.apply_partitioned(
        base, None, parent, PARENTS, ordering, signature, request, dialect=dialect
    )


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
    counts = dict((await uow.rows(query, listing.params())).all())
    return [int(counts.get(p, 0)) for p in parents]
