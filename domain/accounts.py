"""Account use cases: who a token stands for, registration, profile changes,
password changes and the first administrator.

Logging in and token rotation live in domain/sessions.py; reset and verification
mail in domain/recovery.py.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from domain.access import Actor, can_update_user, require_admin
from domain.credentials import (
    AccountPolicy,
    check_email,
    check_name,
    check_password,
)
from domain.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from domain.models import Role, TokenPurpose, User, UserRecord
from domain.patch import KEEP, Keep
from domain.ports import Clock, UnitOfWork
from domain.rate_limits import limit_registration, registration_is_limited
from domain.recovery import send_verification
from domain.security import AccessClaims, NewPassword, hash_password_async
from domain.sessions import (
    AuthTokens,
    count_failure,
    end_all_sessions,
    password_matches,
    refuse_if_locked,
    start_session,
)

T = TypeVar("T")
EMAIL_TAKEN = "email already registered"


class Caller(NamedTuple):
    actor: Actor
    user: UserRecord
    # The users asked for `also` that exist, by id, read with the check.
    also: dict[int, UserRecord]


async def caller_from_claims(
    claims: AccessClaims, *, uow: UnitOfWork, also: Collection[int] = ()
) -> Caller:
    """The actor and their user as the session check read them. Role and activity
    come from the database on every request, never the token, so a deactivation,
    logout or password change takes effect at once."""
    user, named = await uow.users.with_live_session(
        claims.user_id, claims.session_id, also
    )
    if user is None or not user.is_active:
        raise Unauthenticated("session is no longer valid")
    actor = Actor(user_id=user.id, role=user.role, session_id=claims.session_id)
    return Caller(actor, user, named)


async def registration_hashes(
    password: str,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
    client: str | None,
) -> bool:
    """Whether register would hash this password: it is acceptable and the client
    is within its limit. Reads only, counts nothing."""
    try:
        check_password(password)
    except BadUserInput:
        return False
    limits = policy.rate_limits
    return not await registration_is_limited(
        client, uow=uow, clock=clock, limits=limits
    )


async def register(
    email: str,
    password: NewPassword,
    name: str,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
    client: str | None,
) -> AuthTokens:
    """Every attempt counts towards the client's limit, refused ones included: a
    CONFLICT tells that an email has an account, so probing it is limited too."""
    await limit_registration(client, uow=uow, clock=clock, limits=policy.rate_limits)
    user = await _new_user(email, password, name, Role.USER, uow=uow, clock=clock)
    await send_verification(user, uow=uow, clock=clock, policy=policy)
    return await start_session(user, uow=uow, clock=clock, policy=policy)


async def create_admin(
    email: str, password: str, name: str, *, uow: UnitOfWork, clock: Clock
) -> User:
    """The operator's way in (the CLI): an administrator whose email is trusted."""
    new_password = NewPassword(password)
    user = await _new_user(email, new_password, name, Role.ADMIN, uow=uow, clock=clock)
    user.is_verified = True
    return user


async def _new_user(
    email: str,
    password: NewPassword,
    name: str,
    role: Role,
    *,
    uow: UnitOfWork,
    clock: Clock,
) -> User:
    email, name = check_email(email), check_name(name)
    check_password(password.password)
    if await uow.users.by_email(email) is not None:
        raise Conflict(EMAIL_TAKEN)
    now = clock()
    user = User(
        email=email,
        name=name,
        password_hash=await password.hash(),
        role=role,
        is_active=True,
        is_verified=False,
        created_at=now,
        updated_at=now,
    )
    await uow.users.add(user)
    return user


@dataclass(frozen=True, slots=True)
class UserChanges:
    name: str | Keep | None = KEEP
    email: str | Keep | None = KEEP
    role: Role | Keep | None = KEEP
    is_active: bool | Keep | None = KEEP


async def update_user(
    user_id: int,
    changes: UserChanges,
    *,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    policy: AccountPolicy,
) -> User:
    """Anyone may edit their own name and email; only admins edit others, roles and
    activity. A new email must be verified again; a deactivation ends sessions."""
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound.of("User", user_id)
    if not can_update_user(actor, user.id):
        raise Forbidden("only admins may update other users")
    if _changes(changes.role, user.role) or _changes(changes.is_active, user.is_active):
        require_admin(actor, "change role or isActive")
    if changes.name is not KEEP:
        user.name = check_name(_required(changes.name, "name"))
    if changes.email is not KEEP and await _change_email(
        user, _required(changes.email, "email"), uow=uow
    ):
        await send_verification(user, uow=uow, clock=clock, policy=policy)
    if changes.role is not KEEP:
        user.role = _required(changes.role, "role")
    if changes.is_active is not KEEP:
        user.is_active = _required(changes.is_active, "isActive")
        if not user.is_active:
            await end_all_sessions(user.id, uow=uow, clock=clock)
    user.touch(clock())
    return user


async def _change_email(user: User, raw: str, *, uow: UnitOfWork) -> bool:
    email = check_email(raw)
    if email == user.email:
        return False
    owner = await uow.users.by_email(email)
    if owner is not None and owner.id != user.id:
        raise Conflict(EMAIL_TAKEN)
    user.email = email
    user.is_verified = False
    # A reset link mailed to the old address must not outlive the change.
    await uow.one_time_tokens.void_unused(user.id, TokenPurpose.PASSWORD_RESET)
    return True


def _changes(value: T | Keep | None, current: T) -> bool:
    return value is not KEEP and value != current


def _required(value: T | None, field: str) -> T:
    if value is None:
        raise BadUserInput.field(field, "must not be null")
    return value


async def change_password(
    current_password: str,
    new_password: str,
    *,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    policy: AccountPolicy,
) -> bool:
    """Needs the current password, which is throttled like a login; ends every
    session of the user, this one included."""
    check_password(new_password, "newPassword")
    user = await uow.users.get(actor.user_id)
    if user is None:
        raise Unauthenticated()
    refuse_if_locked(await uow.throttles.get(user.email), clock())
    if not await password_matches(user, current_password):
        await count_failure(user.email, uow=uow, clock=clock, policy=policy)
        raise BadUserInput.field("currentPassword", "is incorrect")
    user.password_hash = await hash_password_async(new_password)
    user.touch(clock())
    await end_all_sessions(user.id, uow=uow, clock=clock)
    return True
