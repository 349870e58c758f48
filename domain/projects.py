"""Project use cases: create, update (rename, archive), delete, and membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.access import Actor, can_manage_project, can_view_project
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound
from domain.idempotency import earlier_result, idempotent_request, remember_result
from domain.inputs import KEEP, Change, FieldErrors, checking
from domain.models import Project, ProjectMember, ProjectRole
from domain.ports import Clock, UnitOfWork
from domain.task_events import record_task_events


@dataclass(frozen=True, slots=True)
class ProjectChanges:
    name: Change[str] = KEEP
    description: Change[str] = KEEP
    is_archived: Change[bool] = KEEP
    expected_updated_at: datetime | None = None


async def visible_project(
    project_id: int, *, uow: UnitOfWork, actor: Actor
) -> tuple[Project, ProjectRole | None]:
    """The project and the actor's role in it; NOT_FOUND (never FORBIDDEN) for a
    project the actor may not see, so its existence is not revealed."""
    found = await uow.projects.with_role(project_id, actor.user_id)
    if found is None or not can_view_project(actor, found[1]):
        raise NotFound.of("Project", project_id)
    return found


def ensure_not_archived(project: Project) -> None:
    if project.is_archived:
        raise Conflict("project is archived")


def ensure_unchanged_since(
    updated_at: datetime, expected: datetime | None, what: str
) -> None:
    if expected is not None and updated_at != expected:
        raise Conflict(f"{what} was changed since {expected.isoformat()}")


async def _managed_project(
    project_id: int, *, uow: UnitOfWork, actor: Actor
) -> Project:
    project, role = await visible_project(project_id, uow=uow, actor=actor)
    if not can_manage_project(actor, role):
        raise Forbidden("only the project's owner or an admin may do this")
    return project


async def create_project(
    name: str,
    description: str | None = None,
    idempotency_key: str | None = None,
    *,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
) -> Project:
    with checking() as errors:
        name = errors.name("name", name)
        description = errors.description("description", description)
    now = clock()
    request = idempotent_request(
        idempotency_key, "createProject", {"name": name, "description": description}
    )
    earlier = await earlier_result(request, uow=uow, actor=actor, now=now)
    if earlier is not None:
        return (await visible_project(earlier["projectId"], uow=uow, actor=actor))[0]
    project = Project(
        name=name,
        description=description,
        owner_id=actor.user_id,
        is_archived=False,
        created_at=now,
        updated_at=now,
    )
    uow.add(project)
    await uow.flush()
    # The owner is a member too (role OWNER): visibility is then one membership test.
    uow.add(_member(project, actor.user_id, ProjectRole.OWNER, now))
    await uow.flush()
    await remember_result(
        request, {"projectId": project.id}, uow=uow, actor=actor, now=now
    )
    return project


async def update_project(
    project_id: int,
    changes: ProjectChanges,
    *,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
) -> Project:
    project = await _managed_project(project_id, uow=uow, actor=actor)
    ensure_unchanged_since(project.updated_at, changes.expected_updated_at, "project")
    if changes.is_archived is not False:
        # Read-only while archived; only an update that unarchives may change it.
        ensure_not_archived(project)
    with checking() as errors:
        values = _checked_changes(changes, errors)
    for name, value in values.items():
        setattr(project, name, value)
    project.touch(clock())
    await uow.projects.save(project)
    return project


async def delete_project(
    project_id: int, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> int:
    """Deletes the project; its tasks and memberships go with it (ON DELETE CASCADE)."""
    project = await _managed_project(project_id, uow=uow, actor=actor)
    await uow.projects.delete(project.id)
    return project.id


async def add_project_member(
    project_id: int, user_id: int, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> Project:
    """Adding someone who is already a member changes nothing."""
    project = await _managed_project(project_id, uow=uow, actor=actor)
    ensure_not_archived(project)
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound.of("User", user_id)
    if not user.is_active:
        raise BadUserInput.field("userId", "user is deactivated")
    if project.id in await uow.projects.member_roles([project.id], user_id):
        return project
    now = clock()
    uow.add(_member(project, user_id, ProjectRole.MEMBER, now))
    project.touch(now)
    await uow.projects.save(project)
    return project


async def remove_project_member(
    project_id: int, user_id: int, *, uow: UnitOfWork, actor: Actor, clock: Clock
) -> Project:
    """Removes a member and, in the same transaction, unassigns their open tasks
    in the project."""
    project = await _managed_project(project_id, uow=uow, actor=actor)
    ensure_not_archived(project)
    role = (await uow.projects.member_roles([project.id], user_id)).get(project.id)
    if role is None:
        raise BadUserInput.field("userId", "not a member of this project")
    if role is ProjectRole.OWNER:
        raise BadUserInput.field("userId", "the owner cannot be removed")
    now = clock()
    await uow.projects.remove_member(project.id, user_id)
    unassigned = await uow.tasks.unassign_open(project.id, user_id, now)
    record_task_events(uow, "UPDATED", unassigned, actor=actor, now=now)
    project.touch(now)
    await uow.projects.save(project)
    return project


def _checked_changes(changes: ProjectChanges, errors: FieldErrors) -> dict[str, object]:
    values: dict[str, object] = {}
    if changes.name is not KEEP:
        values["name"] = errors.name("name", changes.name)
    if changes.description is not KEEP:
        values["description"] = errors.description("description", changes.description)
    if changes.is_archived is not KEEP:
        values["is_archived"] = errors.required("isArchived", changes.is_archived)
    return values


def _member(
    project: Project, user_id: int, role: ProjectRole, now: datetime
) -> ProjectMember:
    return ProjectMember(
        project_id=project.id, user_id=user_id, role=role, added_at=now
    )
