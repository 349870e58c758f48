"""Task use cases: create, update, delete, and bulk updates of up to 500 tasks."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from domain.access import Actor, can_write_tasks
from domain.errors import BadUserInput, Conflict, NotFound
from domain.idempotency import earlier_result, idempotent_request, remember_result
from domain.inputs import KEEP, Change, FieldErrors, checking
from domain.models import Project, ProjectRole, Task
from domain.ports import Clock, UnitOfWork
from domain.projects import ensure_not_archived, ensure_unchanged_since, visible_project
from domain.task_events import record_task_events, snapshot

BULK_MAX = 500
DEFAULT_PRIORITY = 3


class TaskStatus(enum.StrEnum):
    """Every task is in exactly one: COMPLETED; OVERDUE (open, due date passed);
    PENDING (open, not overdue)."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True, slots=True)
class NewTask:
    project_id: int
    title: str
    description: str | None = None
    priority: int | None = DEFAULT_PRIORITY
    due_date: datetime | None = None
    assignee_id: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class TaskChanges:
    title: Change[str] = KEEP
    description: Change[str] = KEEP
    priority: Change[int] = KEEP
    due_date: Change[datetime] = KEEP
    assignee_id: Change[int] = KEEP
    is_completed: Change[bool] = KEEP
    expected_updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskPatch:
    """The fields a bulk update may set on every task at once."""

    priority: Change[int] = KEEP
    due_date: Change[datetime] = KEEP
    assignee_id: Change[int] = KEEP
    is_completed: Change[bool] = KEEP


@dataclass(frozen=True, slots=True)
class BulkAccess:
    """What a bulk update needs to know about one task, read for all in one go."""

    task_id: int
    project_id: int
    is_archived: bool
    actor_role: ProjectRole | None
    assignee_role: ProjectRole | None
    updated_at: datetime


async def create_task(
    new: NewTask, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> Task:
    project, _ = await visible_project(new.project_id, uow=uow, actor=actor)
    with checking() as errors:
        title = errors.name("title", new.title)
        description = errors.description("description", new.description)
        priority = errors.priority("priority", new.priority)
    now = clock()
    payload = {**asdict(new), "title": title, "idempotency_key": None}
    request = idempotent_request(new.idempotency_key, "createTask", payload)
    earlier = await earlier_result(request, uow=uow, actor=actor, now=now)
    if earlier is not None:
        return (await _writable_task(earlier["taskId"], uow=uow, actor=actor))[0]
    ensure_not_archived(project)
    with checking() as errors:
        await _check_assignee(errors, project.id, new.assignee_id, uow=uow)
    task = Task(
        project_id=project.id,
        title=title,
        description=description,
        priority=priority,
        is_completed=False,
        due_date=new.due_date,
        assignee_id=new.assignee_id,
        created_at=now,
        updated_at=now,
    )
    uow.add(task)
    await uow.flush()
    record_task_events(uow, "CREATED", [task], actor=actor, now=now)
    await remember_result(request, {"taskId": task.id}, uow=uow, actor=actor, now=now)
    return task


async def update_task(
    task_id: int, changes: TaskChanges, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> Task:
    task, project = await _writable_task(task_id, uow=uow, actor=actor)
    ensure_not_archived(project)
    ensure_unchanged_since(task.updated_at, changes.expected_updated_at, "task")
    with checking() as errors:
        values = _checked_changes(changes, errors)
        if changes.assignee_id is not KEEP:
            await _check_assignee(errors, project.id, changes.assignee_id, uow=uow)
    now = clock()
    completed = values.pop("is_completed", task.is_completed)
    for name, value in values.items():
        setattr(task, name, value)
    task.set_completed(bool(completed), now)
    task.touch(now)
    await uow.tasks.save(task)
    record_task_events(uow, "UPDATED", [task], actor=actor, now=now)
    return task


async def delete_task(
    task_id: int, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> int:
    task, project = await _writable_task(task_id, uow=uow, actor=actor)
    ensure_not_archived(project)
    last_state = Task(**snapshot(task))
    await uow.tasks.delete(task.id)
    record_task_events(uow, "DELETED", [last_state], actor=actor, now=clock())
    return task_id


async def bulk_update_tasks(
    task_ids: list[int],
    patch: TaskPatch,
    idempotency_key: str | None = None,
    *,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
) -> list[Task]:
    """All or nothing, in a constant number of statements: one read of every task's
    access, one UPDATE ... RETURNING for all of them."""
    ids = list(dict.fromkeys(task_ids))
    with checking() as errors:
        if len(ids) > BULK_MAX:
            errors.add("taskIds", f"at most {BULK_MAX} ids per call")
        _checked_patch(patch, errors)
    now = clock()
    payload = {"taskIds": ids, "patch": asdict(patch)}
    request = idempotent_request(idempotency_key, "bulkUpdateTasks", payload)
    earlier = await earlier_result(request, uow=uow, actor=actor, now=now)
    if earlier is not None:
        return await uow.tasks.by_ids(earlier["taskIds"])
    if not ids:
        return []
    assignee = None if patch.assignee_id is KEEP else patch.assignee_id
    access = await uow.tasks.bulk_access(ids, actor.user_id, assignee)
    _check_bulk_access(ids, access, actor, assignee)
    # One stamp for all rows, still later than each row's own updated_at.
    latest = max(row.updated_at for row in access) + timedelta(microseconds=1)
    tasks = await uow.tasks.bulk_update(ids, patch, max(now, latest))
    record_task_events(uow, "UPDATED", tasks, actor=actor, now=now)
    await remember_result(request, {"taskIds": ids}, uow=uow, actor=actor, now=now)
    return tasks


async def _writable_task(
    task_id: int, *, uow: UnitOfWork, actor: Actor
) -> tuple[Task, Project]:
    """NOT_FOUND for a task whose project the actor may not write (or see)."""
    found = await uow.tasks.with_access(task_id, actor.user_id)
    if found is None or not can_write_tasks(actor, found[2]):
        raise NotFound.of("Task", task_id)
    return found[0], found[1]


async def _check_assignee(
    errors: FieldErrors, project_id: int, assignee_id: int | None, *, uow: UnitOfWork
) -> None:
    if assignee_id is None:
        return
    if project_id not in await uow.projects.member_roles([project_id], assignee_id):
        errors.add("assigneeId", "must be the project's owner or a member")


def _checked_changes(changes: TaskChanges, errors: FieldErrors) -> dict[str, object]:
    values: dict[str, object] = {}
    if changes.title is not KEEP:
        values["title"] = errors.name("title", changes.title)
    if changes.description is not KEEP:
        values["description"] = errors.description("description", changes.description)
    if changes.priority is not KEEP:
        values["priority"] = errors.priority("priority", changes.priority)
    if changes.due_date is not KEEP:
        values["due_date"] = changes.due_date
    if changes.assignee_id is not KEEP:
        values["assignee_id"] = changes.assignee_id
    if changes.is_completed is not KEEP:
        values["is_completed"] = errors.required("isCompleted", changes.is_completed)
    return values


def _checked_patch(patch: TaskPatch, errors: FieldErrors) -> None:
    if patch.priority is not KEEP:
        errors.priority("priority", patch.priority)
    if patch.is_completed is not KEEP:
        errors.required("isCompleted", patch.is_completed)


def _check_bulk_access(
    ids: list[int], access: list[BulkAccess], actor: Actor, assignee: int | None
) -> None:
    found = {row.task_id: row for row in access}
    missing = [
        i
        for i in ids
        if i not in found or not can_write_tasks(actor, found[i].actor_role)
    ]
    if missing:
        raise NotFound(f"Task {', '.join(map(str, missing))} not found")
    archived = [i for i in ids if found[i].is_archived]
    if archived:
        raise Conflict(f"project is archived (tasks {', '.join(map(str, archived))})")
    if assignee is not None:
        outside = [i for i in ids if found[i].assignee_role is None]
        if outside:
            raise BadUserInput(
                "assigneeId: not a member of every task's project "
                f"(tasks {', '.join(map(str, outside))})",
                {"assigneeId": "must be the owner or a member of every task's project"},
            )
