"""SQL for tasks: the repository of the write side, filters and keyset orderings."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from domain.inputs import KEEP
from domain.models import Project, ProjectMember, ProjectRole, Task
from domain.tasks import BulkAccess, TaskPatch, TaskStatus
from persistence import keyset
from persistence.projects import flush_checked

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork


# A time, or a parameter bound to one at execution.
Moment = datetime | ColumnElement[datetime]


class TaskOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    DUE_DATE = "DUE_DATE"
    PRIORITY = "PRIORITY"
    TITLE = "TITLE"


_ID = keyset.SortKey("id", Task.id, "int")
_SORT_KEYS = {
    TaskOrderField.CREATED_AT: keyset.SortKey(
        "created_at", Task.created_at, "datetime"
    ),
    # No due date counts as the far future: last ascending, first descending.
    TaskOrderField.DUE_DATE: keyset.SortKey(
        "due_date", Task.due_date, "datetime", nullable=True
    ),
    TaskOrderField.PRIORITY: keyset.SortKey("priority", Task.priority, "int"),
    TaskOrderField.TITLE: keyset.SortKey("title", Task.title, "str"),
}


@dataclass(frozen=True, slots=True)
class TaskOrder:
    field: TaskOrderField = TaskOrderField.CREATED_AT
    descending: bool = False

    def ordering(self) -> keyset.Ordering:
        """The field, then id as the tie-breaker, both in the same direction."""
        return keyset.Ordering((_SORT_KEYS[self.field], _ID), self.descending)

    def cursor_columns(self) -> frozenset[str]:
        """The columns its cursors encode."""
        return frozenset(key.name for key in self.ordering().keys)


@dataclass(frozen=True, slots=True)
class TaskFilter:
    project_id: int | None = None
    status: TaskStatus | None = None
    assignee_id: int | None = None
    priority_at_least: int | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    search: str | None = None

    def conditions(self, now: Moment) -> list[ColumnElement[bool]]:
        """`now` decides what is overdue; it is not part of a cursor's filter."""
        conditions: list[ColumnElement[bool]] = []
        if self.project_id is not None:
            conditions.append(Task.project_id == self.project_id)
        if self.status is not None:
            conditions.append(status_condition(self.status, now))
        if self.assignee_id is not None:
            conditions.append(Task.assignee_id == self.assignee_id)
        if self.priority_at_least is not None:
            conditions.append(Task.priority >= self.priority_at_least)
        if self.due_before is not None:
            conditions.append(Task.due_date < self.due_before)
        if self.due_after is not None:
            conditions.append(Task.due_date > self.due_after)
        if self.search and self.search.strip():
            needle = self.search.strip().lower()
            conditions.append(
                or_(
                    func.lower(Task.title).contains(needle, autoescape=True),
                    func.lower(Task.description).contains(needle, autoescape=True),
                )
            )
        return conditions


def status_condition(status: TaskStatus, now: Moment) -> ColumnElement[bool]:
    """The SQL mirror of Task.is_overdue and the TaskStatus definitions."""
    overdue = and_(Task.due_date.is_not(None), Task.due_date < now)
    if status is TaskStatus.COMPLETED:
        return Task.is_completed.is_(True)
    if status is TaskStatus.OVERDUE:
        return and_(Task.is_completed.is_(False), overdue)
    return and_(
        Task.is_completed.is_(False), or_(Task.due_date.is_(None), Task.due_date >= now)
    )


class TaskRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def with_access(
        self, task_id: int, user_id: int
    ) -> tuple[Task, Project, ProjectRole | None] | None:
        query = (
            select(Task, Project, ProjectMember.role)
            .join(Project, Project.id == Task.project_id)
            .outerjoin(
                ProjectMember,
                and_(
                    ProjectMember.project_id == Task.project_id,
                    ProjectMember.user_id == user_id,
                ),
            )
            .where(Task.id == task_id)
        )
        row = (await self._uow.execute(query)).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def save(self, task: Task) -> None:
        await flush_checked(self._uow, "task")

    async def delete(self, task_id: int) -> None:
        await self._uow.execute(delete(Task).where(Task.id == task_id))

    async def by_ids(self, task_ids: Sequence[int]) -> list[Task]:
        query = select(Task).where(Task.id.in_(task_ids))
        found = {t.id: t for t in (await self._uow.execute(query)).scalars()}
        return [found[i] for i in task_ids if i in found]

    async def bulk_access(
        self, task_ids: Sequence[int], user_id: int, assignee_id: int | None
    ) -> list[BulkAccess]:
        viewer, assignee = aliased(ProjectMember), aliased(ProjectMember)
        query = (
            select(
                Task.id,
                Task.project_id,
                Project.is_archived,
                viewer.role,
                null() if assignee_id is None else assignee.role,
                Task.updated_at,
            )
            .join(Project, Project.id == Task.project_id)
            .outerjoin(
                viewer,
                and_(viewer.project_id == Task.project_id, viewer.user_id == user_id),
            )
            .where(Task.id.in_(task_ids))
        )
        if assignee_id is not None:
            query = query.outerjoin(
                assignee,
                and_(
                    assignee.project_id == Task.project_id,
                    assignee.user_id == assignee_id,
                ),
            )
        return [BulkAccess(*row) for row in (await self._uow.execute(query)).all()]

    async def bulk_update(
        self, task_ids: Sequence[int], patch: TaskPatch, now: datetime
    ) -> list[Task]:
        statement = (
            update(Task)
            .where(Task.id.in_(task_ids))
            .values(_patch_values(patch, now))
            .returning(Task)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        found = {t.id: t for t in (await self._uow.execute(statement)).scalars()}
        return [found[i] for i in task_ids]

    async def unassign_open(
        self, project_id: int, user_id: int, now: datetime
    ) -> list[Task]:
        statement = (
            update(Task)
            .where(
                Task.project_id == project_id,
                Task.assignee_id == user_id,
                Task.is_completed.is_(False),
            )
            .values(assignee_id=None, updated_at=now)
            .returning(Task)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        tasks = (await self._uow.execute(statement)).scalars().all()
        return sorted(tasks, key=lambda t: t.id)


def _patch_values(patch: TaskPatch, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"updated_at": now}
    if patch.priority is not KEEP:
        values["priority"] = patch.priority
    if patch.due_date is not KEEP:
        values["due_date"] = patch.due_date
    if patch.assignee_id is not KEEP:
        values["assignee_id"] = patch.assignee_id
    if patch.is_completed is True:
        # Mirrors Task.set_completed: completing keeps an earlier completedAt.
        values["is_completed"] = True
        values["completed_at"] = case(
            (Task.is_completed.is_(True), Task.completed_at),
            else_=literal(now, Task.completed_at.type),
        )
    elif patch.is_completed is False:
        values["is_completed"] = False
        values["completed_at"] = None
    return values
