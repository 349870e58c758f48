"""What a valid email, name and password are, and how long each credential lives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from domain.common_passwords import is_common
from domain.errors import BadUserInput
from domain.models import EMAIL_MAX, NAME_MAX
from domain.rate_limits import RateLimits
from domain.security import TokenSigner

PASSWORD_MIN = 8
# Long enough for any passphrase, short enough that hashing it costs nothing extra.
# Every check below runs before any hash, so a longer input is never hashed.
PASSWORD_MAX = 128
INVALID_CREDENTIALS = "invalid email or password"
# Deliberately loose: one @, no spaces, a dot in the domain. Whether it receives mail
# is what verification is for.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """How accounts behave: token lifetimes, lockout, rate limits, links in mail,
    and the signer of access tokens."""

    signer: TokenSigner
    refresh_ttl: timedelta = timedelta(days=14)
    reset_ttl: timedelta = timedelta(minutes=30)
    verification_ttl: timedelta = timedelta(hours=48)
    lockout_attempts: int = 5
    lockout_duration: timedelta = timedelta(minutes=15)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    public_url: str = "http://127.0.0.1:8000"

    def link(self, path: str, token: str) -> str:
        return f"{self.public_url}/{path}?token={token}"


def normalize_email(raw: str) -> str:
    """The one spelling under which an email is stored, compared and throttled."""
    return raw.strip().lower()


def check_email(raw: str, field: str = "email") -> str:
    email = normalize_email(raw)
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise BadUserInput.field(field, "is not a valid email address")
    return email


def check_name(raw: str, field: str = "name") -> str:
    name = raw.strip()
    if not name:
        raise BadUserInput.field(field, "must not be empty")
    if len(name) > NAME_MAX:
        raise BadUserInput.field(field, f"must be at most {NAME_MAX} characters")
    return name


def check_password(password: str, field: str = "password") -> str:
    if len(password) < PASSWORD_MIN:
        raise BadUserInput.field(field, f"must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise BadUserInput.field(field, f"must be at most {PASSWORD_MAX} characters")
    if not password.strip():
        raise BadUserInput.field(field, "must not be only whitespace")
    if is_common(password):
        raise BadUserInput.field(field, "is one of the most common passwords")
    return password
