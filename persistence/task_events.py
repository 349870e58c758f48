"""Task events on the event bus: the publisher the unit of work releases them to,
and the JSON payload that carries one event to every worker.

A payload must fit in a NOTIFY (persistence/fanout.py). Only a task's description
can make it too big (10,000 characters against a limit of 8,000 bytes); such a
payload goes without it and names it in `elided`, and the subscriber reads the
current description, or none once the task is gone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.task_events import TaskEventRecord
from persistence.events import EventBus, project_channel
from persistence.fanout import MAX_PAYLOAD_BYTES

_DATETIME_FIELDS = ("completed_at", "due_date", "created_at", "updated_at")
ELIDABLE = "description"


class BusTaskEventPublisher:
    """Publishes each committed task event on its project's channel."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def publish(self, event: TaskEventRecord) -> None:
        await self._bus.publish(project_channel(event.project_id), encode(event))


def encode(event: TaskEventRecord) -> str:
    body: dict[str, Any] = {
        "kind": event.kind,
        "task": _json_snapshot(event.snapshot),
        "actor": event.actor_id,
        "at": event.occurred_at.isoformat(),
    }
    payload = json.dumps(body, separators=(",", ":"))
    if len(payload.encode()) < MAX_PAYLOAD_BYTES:
        return payload
    body["task"][ELIDABLE] = None
    body["elided"] = [ELIDABLE]
    return json.dumps(body, separators=(",", ":"))


def decode(payload: str) -> tuple[TaskEventRecord, bool]:
    """The event, and whether its description was elided."""
    body = json.loads(payload)
    snapshot = dict(body["task"])
    for name in _DATETIME_FIELDS:
        if snapshot[name] is not None:
            snapshot[name] = datetime.fromisoformat(snapshot[name])
    record = TaskEventRecord(
        kind=body["kind"],
        task_id=snapshot["id"],
        project_id=snapshot["project_id"],
        actor_id=body["actor"],
        occurred_at=datetime.fromisoformat(body["at"]),
        snapshot=snapshot,
    )
    return record, ELIDABLE in body.get("elided", ())


def _json_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in snapshot.items()
    }
