"""Account use cases: who a token stands for, registration, login, tokens, resets."""

from __future__ import annotations

from domain.access import Actor
from domain.errors import Unauthenticated
from domain.ports import UnitOfWork
from domain.security import AccessClaims


async def actor_from_claims(claims: AccessClaims, *, uow: UnitOfWork) -> Actor:
    """Role and activity come from the database on every request, never the token,
    so a deactivation, logout or password change takes effect at once."""
    user = await uow.users.with_live_session(claims.user_id, claims.session_id)
    if user is None or not user.is_active:
        raise Unauthenticated("session is no longer valid")
    return Actor(user_id=user.id, role=user.role, session_id=claims.session_id)
