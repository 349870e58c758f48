"""GraphQL for live task events: `subscription { taskEvents(projectId) }`.

Each event is resolved as its own request (graph/subscriptions.py renews the
context), and the caller's right to see the project is checked again for every
event: a member removed from the project gets NOT_FOUND on the next event, and the
subscription ends there.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from domain import models
from domain.errors import NotFound
from domain.task_events import TaskEventRecord
from graph.accounts import UserType
from graph.context import Context
from graph.relay import decode_id
from graph.subscriptions import event_stream
from graph.tasks import TaskType
from persistence.events import project_channel
from persistence.task_events import decode


@strawberry.enum(name="TaskEventKind")
class TaskEventKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"


@strawberry.type(name="TaskEvent")
class TaskEventType:
    kind: TaskEventKind
    task: TaskType = strawberry.field(
        description="The task as the change left it; DELETED carries its last state."
    )
    occurred_at: datetime
    actor_id: strawberry.Private[int]

    @strawberry.field(description="Who made the change.")
    async def actor(self, info: strawberry.Info[Context, None]) -> UserType:
        user = await info.context.loaders.user.load(self.actor_id)
        if user is None:
            raise NotFound.of("User", self.actor_id)
        return UserType.from_model(user)


async def _require_visible_project(context: Context, project_id: int, raw: str) -> None:
    actor = await context.require_actor()
    project = await context.loaders.visible_project.load((project_id, actor))
    if project is None:
        raise NotFound.of("Project", raw)
    context.loaders.project.prime(project_id, project)


async def _event(context: Context, payload: str) -> TaskEventType:
    record, elided = decode(payload)
    task = models.TaskRecord(**record.snapshot)
    if elided:
        task = task._replace(description=await _current_description(context, record))
    return TaskEventType(
        kind=TaskEventKind(record.kind),
        task=TaskType.from_model(task, context),
        occurred_at=record.occurred_at,
        actor_id=record.actor_id,
    )


async def _current_description(context: Context, record: TaskEventRecord) -> str | None:
    actor = await context.require_actor()
    current = await context.loaders.visible_task.load((record.task_id, actor))
    return None if current is None else current.description


@strawberry.type
class TasksSubscription:
    @strawberry.subscription(
        description="Every committed change to the project's tasks, as it happens."
    )
    async def task_events(
        self, info: strawberry.Info[Context, None], project_id: strawberry.ID
    ) -> AsyncGenerator[TaskEventType, None]:
        context = info.context
        ident = decode_id(project_id, "Project", argument="projectId")
        await _require_visible_project(context, ident, project_id)
        async with event_stream(context, project_channel(ident)) as payloads:
            async for payload in payloads:
                await _require_visible_project(context, ident, project_id)
                yield await _event(context, payload)
