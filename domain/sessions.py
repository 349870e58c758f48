"""Sessions: logging in under lockout, rotating refresh tokens, logging out.

A session is one login. Its access tokens carry its id (`sid`) and its refresh
tokens form one rotation chain; revoking the session refuses both at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.credentials import (
    INVALID_CREDENTIALS,
    PASSWORD_MAX,
    AccountPolicy,
    normalize_email,
)
from domain.errors import AccountLocked, Unauthenticated
from domain.models import EMAIL_MAX, AuthSession, LoginThrottle, RefreshToken, User
from domain.ports import Clock, UnitOfWork
from domain.rate_limits import limit_login, login_is_limited
from domain.security import (
    DUMMY_HASH,
    hash_opaque_token,
    hash_password_async,
    needs_rehash,
    new_opaque_token,
    new_session_id,
    verify_password_async,
)

TOKEN_TYPE = "bearer"  # noqa: S105 - the OAuth token_type, not a secret


@dataclass(frozen=True, slots=True)
class AuthTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass(frozen=True, slots=True)
class CheckedPassword:
    """A login's password, verified before the login's transaction opens.

    An argon2 verify takes about 100 ms of CPU, longer when the hash pool is busy. A
    transaction open that long holds what every other writer needs: SQLite's write
    lock, the rate-limit counters' row locks, a pooled connection. So the hash a
    login is checked against is read apart (`hash_to_check`), verified with nothing
    held, and the transaction only compares hashes, unless the stored one changed
    in between (a password reset), which it verifies again."""

    password: str
    # The hash the password was verified against; None when it was not verified
    # (the login will be refused before its verify).
    verified_against: str | None = None
    matched: bool = False

    @classmethod
    async def against(cls, stored_hash: str | None, password: str) -> CheckedPassword:
        if stored_hash is None:
            return cls(password)
        matched = await verify_password_async(stored_hash, password)
        return cls(password, stored_hash, matched)

    async def matches(self, user: User | None) -> bool:
        if _stored_hash(user) == self.verified_against:
            return self.matched
        return await password_matches(user, self.password)


async def hash_to_check(
    email: str,
    password: str,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
    client: str | None,
) -> str | None:
    """What a login's password is to be verified against, read and counted nothing:
    the user's hash, a dummy one for an unknown email, None when the login will be
    refused before its verify (no hash is spent on a locked or limited caller)."""
    email = normalize_email(email)
    if len(email) > EMAIL_MAX or len(password) > PASSWORD_MAX:
        return None
    limits = policy.rate_limits
    if await login_is_limited(email, client, uow=uow, clock=clock, limits=limits):
        return None
    throttle = await uow.throttles.get(email)
    if throttle is not None and throttle.retry_after(clock()) is not None:
        return None
    return _stored_hash(await uow.users.by_email(email))


async def login(
    email: str,
    password: CheckedPassword,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
    client: str | None,
) -> AuthTokens:
    """Unknown emails cost one argon2 verify and count towards a lock exactly as
    known ones do, so neither time, message nor lock tells them apart."""
    email = normalize_email(email)
    await limit_login(email, client, uow=uow, clock=clock, limits=policy.rate_limits)
    if len(email) > EMAIL_MAX:
        # No account can have such an email: nothing to verify, no lock to count.
        raise Unauthenticated(INVALID_CREDENTIALS)
    throttle = await uow.throttles.get(email)
    refuse_if_locked(throttle, clock())
    user = await uow.users.by_email(email)
    if not await password.matches(user) or user is None:
        await count_failure(email, uow=uow, clock=clock, policy=policy)
        raise Unauthenticated(INVALID_CREDENTIALS)
    if not user.is_active:
        raise Unauthenticated("this account is deactivated")
    if throttle is not None:
        await uow.throttles.clear(email)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password.password)
    return await start_session(user, uow=uow, clock=clock, policy=policy)


async def password_matches(user: User | None, password: str) -> bool:
    """One argon2 verify, against a dummy hash when there is no user."""
    if len(password) > PASSWORD_MAX:
        # Nothing longer was ever accepted: wrong without hashing, known email or not.
        return False
    return await verify_password_async(_stored_hash(user), password)


def _stored_hash(user: User | None) -> str:
    """What a password is verified against: a dummy hash when there is no user."""
    return DUMMY_HASH if user is None else user.password_hash


def refuse_if_locked(throttle: LoginThrottle | None, now: datetime) -> None:
    retry_after = None if throttle is None else throttle.retry_after(now)
    if retry_after is not None:
        raise AccountLocked(
            "account temporarily locked after too many failed logins",
            retry_after,
        )


async def count_failure(
    email: str, *, uow: UnitOfWork, clock: Clock, policy: AccountPolicy
) -> None:
    now = clock()
    throttle = await uow.throttles.locked_row(email, now)
    throttle.register_failure(now, policy.lockout_attempts, policy.lockout_duration)
    uow.keep_on_error()


async def start_session(
    user: User, *, uow: UnitOfWork, clock: Clock, policy: AccountPolicy
) -> AuthTokens:
    now = clock()
    session = AuthSession(id=new_session_id(), user_id=user.id, created_at=now)
    uow.add(session)
    # No ORM relationship orders the two inserts: the session must exist first.
    await uow.flush()
    return _issue(user, session, uow=uow, clock=clock, policy=policy)


def _issue(
    user: User,
    session: AuthSession,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: AccountPolicy,
) -> AuthTokens:
    now = clock()
    refresh, refresh_hash = new_opaque_token()
    uow.add(
        RefreshToken(
            session_id=session.id,
            token_hash=refresh_hash,
            created_at=now,
            expires_at=now + policy.refresh_ttl,
        )
    )
    return AuthTokens(
        access_token=policy.signer.issue(user.id, session.id, now),
        refresh_token=refresh,
        expires_in=policy.signer.expires_in_seconds,
        user=user,
    )


async def rotate_refresh_token(
    refresh_token: str, *, uow: UnitOfWork, clock: Clock, policy: AccountPolicy
) -> AuthTokens:
    """Trade a refresh token for a new pair. A token presented twice means two
    parties hold it: the whole session is revoked, legitimate holder included."""
    now = clock()
    stored, session = await _find(refresh_token, uow=uow)
    if session.is_revoked:
        raise Unauthenticated("refresh token revoked")
    if stored.used_at is not None:
        session.revoke(now)
        uow.keep_on_error()
        raise Unauthenticated("refresh token reused: its session is revoked")
    if stored.is_expired(now):
        raise Unauthenticated("refresh token expired")
    user = await uow.users.get(session.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("this account is deactivated")
    stored.used_at = now
    return _issue(user, session, uow=uow, clock=clock, policy=policy)


async def logout(refresh_token: str, *, uow: UnitOfWork, clock: Clock) -> bool:
    _, session = await _find(refresh_token, uow=uow)
    session.revoke(clock())
    return True


async def end_all_sessions(user_id: int, *, uow: UnitOfWork, clock: Clock) -> None:
    await uow.sessions.revoke_all(user_id, clock())


async def _find(
    refresh_token: str, *, uow: UnitOfWork
) -> tuple[RefreshToken, AuthSession]:
    stored = await uow.refresh_tokens.by_hash(hash_opaque_token(refresh_token))
    session = None if stored is None else await uow.sessions.get(stored.session_id)
    if stored is None or session is None:
        raise Unauthenticated("invalid refresh token")
    return stored, session
