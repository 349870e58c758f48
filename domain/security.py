"""Credentials: argon2id password hashes, signed access tokens, opaque tokens."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.errors import Unauthenticated

# argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4),
# above OWASP's minimum; changing them upgrades stored hashes on the next login.
_hasher = PasswordHasher()
ISSUER = "trackql"
AUDIENCE = "trackql-api"
ACCESS_TYPE = "access"
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti", "sid", "typ")

# Each argon2 call takes 64 MiB and tens of milliseconds of CPU. A small, fixed pool
# keeps them off the event loop and makes a flood of logins queue (a few bytes per
# waiting call) instead of allocating 64 MiB per concurrent request.
HASH_WORKERS = 2
HASH_THREAD_PREFIX = "trackql-argon2"
_pool = ThreadPoolExecutor(
    max_workers=HASH_WORKERS, thread_name_prefix=HASH_THREAD_PREFIX
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(
        _pool, hash_password, password
    )


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _pool, verify_password, password_hash, password
    )


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A new password, hashed before its mutation's transaction opens, for the
    reason domain.sessions.CheckedPassword gives; or not yet, when the mutation
    will be refused before its hash."""

    password: str
    hashed: str | None = None

    @classmethod
    async def hashed_if(cls, password: str, worth_it: bool) -> NewPassword:
        return cls(password, await hash_password_async(password) if worth_it else None)

    async def hash(self) -> str:
        if self.hashed is not None:
            return self.hashed
        return await hash_password_async(self.password)


# Verified against when the email is unknown, so both paths cost one argon2 verify.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenSigner:
    secret_key: str
    access_ttl: timedelta

    @property
    def expires_in_seconds(self) -> int:
        return int(self.access_ttl.total_seconds())

    def issue(self, user_id: int, session_id: str, now: datetime) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "sid": session_id,
            "typ": ACCESS_TYPE,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
        }
        return jwt.encode(claims, self.secret_key, algorithm=ALGORITHM)

    def verify(self, token: str, now: datetime) -> AccessClaims:
        try:
            return _access_claims(_signed_claims(token, self.secret_key), now)
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise Unauthenticated("invalid access token") from exc


# A client sends the same token with every request until it expires: the signature,
# audience and issuer of a token string cannot change, so their check is kept (the
# key is part of the cache key). Only successes are cached, so invalid tokens cannot
# fill it; times are checked on every call, and revocation in the database.
@functools.lru_cache(maxsize=4096)
def _signed_claims(token: str, secret_key: str) -> Mapping[str, Any]:
    # Times are checked in _access_claims against `now`, the runtime's clock,
    # rather than PyJWT's wall clock, so that one clock governs every expiry.
    claims = jwt.decode(
        token,
        secret_key,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={
            "require": list(REQUIRED_CLAIMS),
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )
    return MappingProxyType(claims)


def _access_claims(claims: Mapping[str, Any], now: datetime) -> AccessClaims:
    if claims["typ"] != ACCESS_TYPE:
        raise Unauthenticated("not an access token")
    expires, issued = claims["exp"], claims["iat"]
    if not all(type(v) in (int, float) for v in (expires, issued)):
        raise ValueError("exp and iat must be numbers")
    if issued > now.timestamp() + LEEWAY_SECONDS:
        raise ValueError("issued in the future")
    if expires <= now.timestamp() - LEEWAY_SECONDS:
        raise Unauthenticated("access token expired")
    return AccessClaims(
        user_id=int(claims["sub"]),
        session_id=str(claims["sid"]),
        expires_at=datetime.fromtimestamp(expires, now.tzinfo),
    )


def new_session_id() -> str:
    return str(uuid.uuid4())


def new_opaque_token() -> tuple[str, str]:
    """A random token (256 bits) and the hash that is all the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque_token(token)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
