"""Password reset and email verification: single-use tokens sent by mail.

Tokens are random (256 bits), stored only as their hash, expire, and a newer token
of the same purpose voids the older ones. The mail goes through the outbox, in the
same transaction as the token it carries.
"""

from __future__ import annotations

from datetime import datetime

from domain.access import Actor
from domain.credentials import AccountPolicy, check_password, normalize_email
from domain.errors import BadUserInput, Unauthenticated
from domain.models import OneTimeToken, TokenPurpose, User
from domain.ports import Clock, UnitOfWork
from domain.rate_limits import limit_password_reset
from domain.security import NewPassword, hash_opaque_token, new_opaque_token
from domain.sessions import end_all_sessions

INVALID_TOKEN = "is invalid or expired"  # noqa: S105 - a message, not a secret

RESET_MAIL = """\
Someone (hopefully you) asked to reset the password of your trackql account.

Choose a new password here; the link works once, for {minutes} minutes:

{link}

If it wasn't you, ignore this message: your password stays as it is.
"""

VERIFICATION_MAIL = """\
Please confirm that this is your email address for trackql:

{link}

The link works once, for {hours} hours.
"""


async def request_password_reset(
    email: str,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
    client: str | None,
) -> bool:
    """True, or RATE_LIMITED: either answer is the same whether or not the email
    has an account, since unknown emails are counted too."""
    email = normalize_email(email)
    await limit_password_reset(
        email, client, uow=uow, clock=clock, limits=policy.rate_limits
    )
    user = await uow.users.by_email(email)
    if user is not None and user.is_active:
        token = await _new_token(
            user, TokenPurpose.PASSWORD_RESET, policy, uow=uow, clock=clock
        )
        body = RESET_MAIL.format(
            link=policy.link("reset-password", token),
            minutes=int(policy.reset_ttl.total_seconds() // 60),
        )
        uow.outbox.enqueue(user.email, "Reset your trackql password", body)
    return True


async def reset_hashes(
    token: str, new_password: str, *, uow: UnitOfWork, clock: Clock
) -> bool:
    """Whether reset_password would hash this password: it is acceptable and the
    token redeemable now. Reads only."""
    try:
        check_password(new_password, "newPassword")
    except BadUserInput:
        return False
    purpose = TokenPurpose.PASSWORD_RESET
    return await _redeemable(token, purpose, clock(), uow=uow) is not None


async def reset_password(
    token: str, new_password: NewPassword, *, uow: UnitOfWork, clock: Clock
) -> bool:
    """Set a new password, end every session of the user and lift any lock."""
    check_password(new_password.password, "newPassword")
    user = await _redeem(token, TokenPurpose.PASSWORD_RESET, uow=uow, clock=clock)
    user.password_hash = await new_password.hash()
    # The link reached the mailbox, which is all that verification proves.
    user.is_verified = True
    user.touch(clock())
    await end_all_sessions(user.id, uow=uow, clock=clock)
    await uow.throttles.clear(user.email)
    return True


async def send_verification(
    user: User, *, uow: UnitOfWork, clock: Clock, policy: AccountPolicy
) -> None:
    token = await _new_token(
        user, TokenPurpose.EMAIL_VERIFICATION, policy, uow=uow, clock=clock
    )
    body = VERIFICATION_MAIL.format(
        link=policy.link("verify-email", token),
        hours=int(policy.verification_ttl.total_seconds() // 3600),
    )
    uow.outbox.enqueue(user.email, "Confirm your email address", body)


async def request_email_verification(
    *, uow: UnitOfWork, actor: Actor, clock: Clock, policy: AccountPolicy
) -> bool:
    user = await uow.users.get(actor.user_id)
    if user is None:
        raise Unauthenticated()
    if not user.is_verified:
        await send_verification(user, uow=uow, clock=clock, policy=policy)
    return True


async def verify_email(token: str, *, uow: UnitOfWork, clock: Clock) -> User:
    user = await _redeem(token, TokenPurpose.EMAIL_VERIFICATION, uow=uow, clock=clock)
    user.is_verified = True
    user.touch(clock())
    return user


async def _new_token(
    user: User,
    purpose: TokenPurpose,
    policy: AccountPolicy,
    *,
    uow: UnitOfWork,
    clock: Clock,
) -> str:
    await uow.one_time_tokens.void_unused(user.id, purpose)
    ttl = (
        policy.reset_ttl
        if purpose is TokenPurpose.PASSWORD_RESET
        else policy.verification_ttl
    )
    token, token_hash = new_opaque_token()
    now = clock()
    uow.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


async def _redeem(
    token: str, purpose: TokenPurpose, *, uow: UnitOfWork, clock: Clock
) -> User:
    now = clock()
    found = await _redeemable(token, purpose, now, uow=uow)
    if found is None:
        raise BadUserInput.field("token", INVALID_TOKEN)
    stored, user = found
    stored.used_at = now
    return user


async def _redeemable(
    token: str, purpose: TokenPurpose, now: datetime, *, uow: UnitOfWork
) -> tuple[OneTimeToken, User] | None:
    stored = await uow.one_time_tokens.by_hash(hash_opaque_token(token), purpose)
    user = None if stored is None else await uow.users.get(stored.user_id)
    if stored is None or not stored.is_usable(now) or not (user and user.is_active):
        return None
    return stored, user
