"""Inputs and enums that the project, task and user types share: list filters,
the task order, and partial-update values."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TypeVar

import strawberry

from domain.access import Actor
from domain.inputs import KEEP, Change
from domain.tasks import TaskStatus
from graph.relay import decode_id, given
from persistence import projects as project_queries
from persistence import tasks as task_queries
from persistence.tasks import TaskOrderField

T = TypeVar("T")

strawberry.enum(TaskStatus, name="TaskStatus")
strawberry.enum(TaskOrderField, name="TaskOrderField")


@strawberry.enum(name="OrderDirection")
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


def change(value: T | None) -> Change[T]:
    """An update input's field: omitted (UNSET) keeps the value, null clears it."""
    return KEEP if value is strawberry.UNSET else value


def optional_id(
    value: strawberry.ID | None, type_name: str, argument: str
) -> int | None:
    raw = given(value)
    return None if raw is None else decode_id(raw, type_name, argument=argument)


@strawberry.input
class ProjectFilter:
    owned_by_me: bool | None = strawberry.UNSET
    include_archived: bool | None = False
    search: str | None = strawberry.UNSET

    def to_query(self, actor: Actor) -> project_queries.ProjectFilter:
        return project_queries.ProjectFilter(
            owned_by=actor.user_id if given(self.owned_by_me) else None,
            include_archived=bool(given(self.include_archived)),
            search=given(self.search),
        )


@strawberry.input
class TaskFilter:
    project_id: strawberry.ID | None = strawberry.UNSET
    status: TaskStatus | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    priority_at_least: int | None = strawberry.UNSET
    due_before: datetime | None = strawberry.UNSET
    due_after: datetime | None = strawberry.UNSET
    search: str | None = strawberry.UNSET

    def to_query(self) -> task_queries.TaskFilter:
        return task_queries.TaskFilter(
            project_id=optional_id(self.project_id, "Project", "projectId"),
            status=given(self.status),
            assignee_id=optional_id(self.assignee_id, "User", "assigneeId"),
            priority_at_least=given(self.priority_at_least),
            due_before=given(self.due_before),
            due_after=given(self.due_after),
            search=given(self.search),
        )


@strawberry.input
class TaskOrder:
    field: TaskOrderField
    direction: OrderDirection = OrderDirection.ASC

    def to_query(self) -> task_queries.TaskOrder:
        return task_queries.TaskOrder(
            self.field, descending=self.direction is OrderDirection.DESC
        )


def project_filter(
    value: ProjectFilter | None, actor: Actor
) -> project_queries.ProjectFilter:
    return (given(value) or ProjectFilter()).to_query(actor)


def task_filter(value: TaskFilter | None) -> task_queries.TaskFilter:
    found = given(value)
    return task_queries.TaskFilter() if found is None else found.to_query()


def task_order(value: TaskOrder | None) -> task_queries.TaskOrder:
    found = given(value)
    return task_queries.TaskOrder() if found is None else found.to_query()
