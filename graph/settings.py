"""Settings, read once from TRACKQL_* environment variables into a frozen dataclass."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, TypeVar, cast
from urllib.parse import urlsplit

from sqlalchemy.exc import ArgumentError

from domain.rate_limits import Rate, RateLimits
from graph.mail import SmtpTarget
from persistence.engine import PoolOptions, normalize_url

Environment = Literal["development", "test", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "test", "production")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
MIN_SECRET_LENGTH = 32
DEV_SECRET_FILE = Path(".trackql-secret")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./trackql.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "trackql <no-reply@localhost>"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
T = TypeVar("T")
# COUNT/PERIOD: "3/hour", "20/15 minutes", "300/15minutes", "10/second".
_RATE = re.compile(r"(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?", re.IGNORECASE)
_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
RATE_SETTINGS = {
    "login_per_email": "TRACKQL_RATE_LIMIT_LOGIN_PER_EMAIL",
    "login_per_client": "TRACKQL_RATE_LIMIT_LOGIN_PER_CLIENT",
    "register_per_client": "TRACKQL_RATE_LIMIT_REGISTER_PER_CLIENT",
    "password_reset_per_email": "TRACKQL_RATE_LIMIT_PASSWORD_RESET_PER_EMAIL",
    "password_reset_per_client": "TRACKQL_RATE_LIMIT_PASSWORD_RESET_PER_CLIENT",
}


class SettingsError(ValueError):
    """An invalid setting; its message is one line that names the variable."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Limits on one GraphQL document; docs/security.md gives the reasons."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 1_000
    max_directives: int = 50
    max_length: int = 15_000
    max_cost: int = 5_000


@dataclass(frozen=True, slots=True)
class Settings:
    secret_key: str
    database_url: str = DEFAULT_DATABASE_URL
    env: Environment = "development"
    public_url: str = DEFAULT_PUBLIC_URL
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    reset_token_minutes: int = 30
    verification_token_hours: int = 48
    cors_origins: tuple[str, ...] = ()
    graphiql: bool = True
    log_level: str = "INFO"
    max_subscriptions_per_user: int = 20
    pool: PoolOptions = field(default_factory=PoolOptions)
    query_limits: QueryLimits = QueryLimits()
    introspection: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_limits: RateLimits = field(default_factory=RateLimits)
    trusted_proxies: tuple[str, ...] = ()
    shutdown_timeout_seconds: int = 30

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Reader(os.environ if environ is None else environ)
        environment = env.choice("TRACKQL_ENV", ENVIRONMENTS, "development")
        database_url = env.text("TRACKQL_DATABASE_URL", DEFAULT_DATABASE_URL)
        try:
            normalize_url(database_url)
        except (ArgumentError, ValueError) as exc:
            raise SettingsError(
                "TRACKQL_DATABASE_URL: not a sqlite or postgresql URL"
            ) from exc
        return cls(
            secret_key=_secret_key(env.optional("TRACKQL_SECRET_KEY"), environment),
            database_url=database_url,
            env=environment,
            public_url=env.text("TRACKQL_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            smtp_url=_smtp_url(env.optional("TRACKQL_SMTP_URL")),
            mail_from=env.text("TRACKQL_MAIL_FROM", DEFAULT_MAIL_FROM),
            access_token_minutes=env.positive("TRACKQL_ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=env.positive("TRACKQL_REFRESH_TOKEN_DAYS", 14),
            lockout_attempts=env.positive("TRACKQL_LOCKOUT_ATTEMPTS", 5),
            lockout_minutes=env.positive("TRACKQL_LOCKOUT_MINUTES", 15),
            reset_token_minutes=env.positive("TRACKQL_RESET_TOKEN_MINUTES", 30),
            verification_token_hours=env.positive(
                "TRACKQL_VERIFICATION_TOKEN_HOURS", 48
            ),
            cors_origins=env.origins("TRACKQL_CORS_ORIGINS"),
            graphiql=env.flag("TRACKQL_GRAPHIQL", environment != "production"),
            log_level=env.choice("TRACKQL_LOG_LEVEL", LOG_LEVELS, "INFO", upper=True),
            query_limits=_query_limits(env),
            introspection=env.flag(
                "TRACKQL_INTROSPECTION", environment != "production"
            ),
            max_body_bytes=env.positive(
                "TRACKQL_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES
            ),
            max_subscriptions_per_user=env.positive(
                "TRACKQL_MAX_SUBSCRIPTIONS_PER_USER", 20
            ),
            rate_limits=_rate_limits(env),
            trusted_proxies=env.networks("TRACKQL_TRUSTED_PROXIES"),
            pool=_pool(env),
            shutdown_timeout_seconds=env.positive(
                "TRACKQL_SHUTDOWN_TIMEOUT_SECONDS", 30
            ),
        )


def _pool(env: _Reader) -> PoolOptions:
    default = PoolOptions()
    return PoolOptions(
        size=env.positive("TRACKQL_DB_POOL_SIZE", default.size),
        overflow=env.count("TRACKQL_DB_POOL_OVERFLOW", default.overflow),
        timeout_seconds=env.seconds(
            "TRACKQL_DB_POOL_TIMEOUT_SECONDS", default.timeout_seconds
        ),
        connect_timeout_seconds=env.seconds(
            "TRACKQL_DB_CONNECT_TIMEOUT_SECONDS", default.connect_timeout_seconds
        ),
        statement_timeout_ms=env.positive(
            "TRACKQL_DB_STATEMENT_TIMEOUT_MS", default.statement_timeout_ms
        ),
    )


def _query_limits(env: _Reader) -> QueryLimits:
    default = QueryLimits()
    return QueryLimits(
        max_depth=env.positive("TRACKQL_MAX_QUERY_DEPTH", default.max_depth),
        max_aliases=env.positive("TRACKQL_MAX_QUERY_ALIASES", default.max_aliases),
        max_tokens=env.positive("TRACKQL_MAX_QUERY_TOKENS", default.max_tokens),
        max_directives=env.positive(
            "TRACKQL_MAX_QUERY_DIRECTIVES", default.max_directives
        ),
        max_length=env.positive("TRACKQL_MAX_QUERY_LENGTH", default.max_length),
        max_cost=env.positive("TRACKQL_MAX_QUERY_COST", default.max_cost),
    )


def _rate_limits(env: _Reader) -> RateLimits:
    default = RateLimits()
    rates = {
        field: env.rate(name, getattr(default, field))
        for field, name in RATE_SETTINGS.items()
    }
    # Off is for load tests; lockout is not a rate limit and stays on.
    return RateLimits(enabled=env.flag("TRACKQL_RATE_LIMITS", True), **rates)


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def positive(self, name: str, default: int) -> int:
        return self._parse(name, default, _positive_int, "a positive integer")

    def count(self, name: str, default: int) -> int:
        return self._parse(name, default, _count, "an integer of 0 or more")

    def seconds(self, name: str, default: float) -> float:
        return self._parse(name, default, _positive_seconds, "a positive number")

    def flag(self, name: str, default: bool) -> bool:
        return self._parse(name, default, _boolean, "one of true, false, 1, 0")

    def rate(self, name: str, default: Rate) -> Rate:
        return self._parse(
            name, default, _rate, "COUNT/PERIOD like 3/hour or 20/15minutes"
        )

    def networks(self, name: str) -> tuple[str, ...]:
        networks = self.csv(name)
        for network in networks:
            try:
                ipaddress.ip_network(network)
            except ValueError:
                raise SettingsError(
                    f"{name}: {network!r} is not an address or a network like "
                    "10.0.0.0/8"
                ) from None
        return networks

    def csv(self, name: str) -> tuple[str, ...]:
        raw = self.optional(name) or ""
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    def origins(self, name: str) -> tuple[str, ...]:
        origins = self.csv(name)
        for origin in origins:
            if not _is_origin(origin):
                raise SettingsError(
                    f"{name}: {origin!r} is not an origin like https://app.example.com"
                )
        return origins

    def choice(
        self, name: str, allowed: tuple[T, ...], default: T, *, upper: bool = False
    ) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            raise SettingsError(
                f"{name}: must be one of {', '.join(map(str, allowed))}"
            )
        return cast(T, value)

    def _parse(
        self, name: str, default: T, parse: Callable[[str], T], expected: str
    ) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError:
            raise SettingsError(f"{name}: expected {expected}, got {raw!r}") from None


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(raw)
    return value


def _rate(raw: str) -> Rate:
    found = _RATE.fullmatch(raw.strip())
    if found is None:
        raise ValueError(raw)
    count, periods, unit = found.groups()
    window = _UNITS[unit.lower()] * int(periods or 1)
    if int(count) <= 0 or window <= timedelta():
        raise ValueError(raw)
    return Rate(int(count), window)


def _count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


def _positive_seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):  # also refuses nan
        raise ValueError(raw)
    return value


def _is_origin(value: str) -> bool:
    # Browsers send an Origin header as scheme://host[:port]; CORS compares it exactly.
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and not (parts.path or parts.query or parts.fragment or parts.username)
    )


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)


def _smtp_url(raw: str | None) -> str | None:
    if raw is not None:
        try:
            SmtpTarget.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"TRACKQL_SMTP_URL: {exc}") from None
    return raw


def _secret_key(configured: str | None, environment: Environment) -> str:
    if configured is not None:
        if environment == "production" and len(configured) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"TRACKQL_SECRET_KEY: at least {MIN_SECRET_LENGTH} characters "
                "are required in production"
            )
        return configured
    if environment == "production":
        raise SettingsError("TRACKQL_SECRET_KEY: required in production")
    if environment == "test":
        return secrets.token_urlsafe(48)
    return _development_secret()


def _development_secret() -> str:
    # Kept on disk so that tokens issued in development survive a restart.
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.write_text(key + "\n")
    DEV_SECRET_FILE.chmod(0o600)
    return key
