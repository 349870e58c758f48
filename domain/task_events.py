"""Task events: what changed, recorded by use cases and published after commit.

A use case calls `uow.record_task_event(...)`; the unit of work queues the record and
hands it to its TaskEventPublisher only once the transaction has committed, so a
rolled-back change publishes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from domain.access import Actor
from domain.models import Task, TaskRecord
from domain.ports import UnitOfWork

TaskEventKind = Literal["CREATED", "UPDATED", "DELETED"]
# A task's columns, so `TaskRecord(**snapshot)` rebuilds its last state.
SNAPSHOT_FIELDS = TaskRecord._fields


@dataclass(frozen=True, slots=True)
class TaskEventRecord:
    kind: TaskEventKind
    task_id: int
    project_id: int
    actor_id: int
    occurred_at: datetime
    snapshot: dict[str, Any]


def snapshot(task: Task) -> dict[str, Any]:
    return {name: getattr(task, name) for name in SNAPSHOT_FIELDS}


def record_task_events(
    uow: UnitOfWork,
    kind: TaskEventKind,
    tasks: Iterable[Task],
    *,
    actor: Actor,
    now: datetime,
) -> None:
    for task in tasks:
        uow.record_task_event(
            TaskEventRecord(
                kind=kind,
                task_id=task.id,
                project_id=task.project_id,
                actor_id=actor.user_id,
                occurred_at=now,
                snapshot=snapshot(task),
            )
        )


class NoTaskEventPublisher:
    """The default publisher until a transport is configured: drops every event."""

    async def publish(self, event: TaskEventRecord) -> None:
        return None
