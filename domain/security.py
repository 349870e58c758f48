"""Credentials: argon2id password hashes, signed access tokens, opaque tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


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
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "sub", "exp", "iat", "jti", "sid"]},
            )
            if claims.get("typ") != ACCESS_TYPE:
                raise Unauthenticated("not an access token")
            return AccessClaims(
                user_id=int(claims["sub"]),
                session_id=str(claims["sid"]),
                expires_at=datetime.fromtimestamp(claims["exp"], now.tzinfo),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("access token expired") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise Unauthenticated("invalid access token") from exc


def new_opaque_token() -> tuple[str, str]:
    """A random token (256 bits) and the hash that is all the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque_token(token)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
