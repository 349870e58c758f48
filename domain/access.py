"""Who is acting, and the authorization predicates every layer agrees on.

Each read-side visibility filter in persistence mirrors a predicate here; tests per
area check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden, Unauthenticated
from domain.models import ProjectRole, ProjectView, Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    role: Role
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise Unauthenticated()
    return actor


def can_update_user(actor: Actor, user_id: int) -> bool:
    return actor.is_admin or actor.user_id == user_id


def require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only admins may {what}")


# A project's visibility: its members (the owner is one, with role OWNER) and admins.
# `role` is the actor's membership in the project, None when not a member.
# persistence.projects.visible_projects is the SQL mirror of can_view_project.


def can_view_project(actor: Actor, role: ProjectRole | None) -> bool:
    return actor.is_admin or role is not None


def can_manage_project(actor: Actor, role: ProjectRole | None) -> bool:
    """Update, archive, delete, and add or remove members."""
    return actor.is_admin or role is ProjectRole.OWNER


def can_write_tasks(actor: Actor, role: ProjectRole | None) -> bool:
    """Create, update and delete tasks (an archived project refuses all three)."""
    return actor.is_admin or role in (ProjectRole.OWNER, ProjectRole.MEMBER)


def can_update_task(
    actor: Actor, role: ProjectRole | None, project: ProjectView
) -> bool:
    return can_write_tasks(actor, role) and not project.is_archived
