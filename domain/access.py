"""Who is acting, and the authorization predicates every layer agrees on.

Each read-side visibility filter in persistence mirrors a predicate here; tests per
area check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden, Unauthenticated
from domain.models import Role


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
