"""Rate limits on the account mutations an attacker repeats: logging in, registering
and asking for password reset mail.

Each limit counts hits per key (a normalised email, or a client address) in fixed
windows aligned to the epoch, in the database, so that every worker shares one
count. A hit over the limit is RATE_LIMITED until its window ends. Emails are
counted whether or not they have an account, so a refusal reveals nothing.
docs/security.md gives each default and its reason.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import RateLimited
from domain.ports import Clock, UnitOfWork

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNKNOWN_CLIENT = "unknown"
MESSAGE = "too many requests: try again later"
# One IPv6 subscriber usually holds a whole /64; counting single addresses would
# give each of them 2**64 allowances.
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `hits` in each window of length `window`."""

    hits: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        return EPOCH + (now - EPOCH) // self.window * self.window

    def seconds_left(self, now: datetime) -> int:
        end = self.window_start(now) + self.window
        return math.ceil((end - now).total_seconds())


@dataclass(frozen=True, slots=True)
class RateLimits:
    enabled: bool = True
    login_per_email: Rate = Rate(20, timedelta(minutes=15))
    login_per_client: Rate = Rate(300, timedelta(minutes=15))
    register_per_client: Rate = Rate(50, timedelta(hours=1))
    password_reset_per_email: Rate = Rate(3, timedelta(hours=1))
    password_reset_per_client: Rate = Rate(30, timedelta(hours=1))

    @property
    def longest_window(self) -> timedelta:
        return max(
            self.login_per_email.window,
            self.login_per_client.window,
            self.register_per_client.window,
            self.password_reset_per_email.window,
            self.password_reset_per_client.window,
        )


def client_key(address: str | None) -> str:
    """The key a client is counted under: its IPv4 address or IPv6 /64."""
    if not address:
        return UNKNOWN_CLIENT
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


Count = tuple[str, str, Rate]  # a limit's name, the key it counts, its rate


def _login_counts(email: str, client: str | None, limits: RateLimits) -> list[Count]:
    return [
        ("login:client", client_key(client), limits.login_per_client),
        ("login:email", email, limits.login_per_email),
    ]


def _registration_counts(client: str | None, limits: RateLimits) -> list[Count]:
    return [("register:client", client_key(client), limits.register_per_client)]


async def limit_login(
    email: str, client: str | None, *, uow: UnitOfWork, clock: Clock, limits: RateLimits
) -> None:
    await _count(limits, uow, clock, _login_counts(email, client, limits))


async def login_is_limited(
    email: str, client: str | None, *, uow: UnitOfWork, clock: Clock, limits: RateLimits
) -> bool:
    """Whether limit_login would refuse the next attempt; counts nothing."""
    return await _is_over(limits, uow, clock, _login_counts(email, client, limits))


async def limit_registration(
    client: str | None, *, uow: UnitOfWork, clock: Clock, limits: RateLimits
) -> None:
    await _count(limits, uow, clock, _registration_counts(client, limits))


async def registration_is_limited(
    client: str | None, *, uow: UnitOfWork, clock: Clock, limits: RateLimits
) -> bool:
    """Whether limit_registration would refuse the next attempt; counts nothing."""
    return await _is_over(limits, uow, clock, _registration_counts(client, limits))


async def limit_password_reset(
    email: str, client: str | None, *, uow: UnitOfWork, clock: Clock, limits: RateLimits
) -> None:
    counts = [
        ("reset:client", client_key(client), limits.password_reset_per_client),
        ("reset:email", email, limits.password_reset_per_email),
    ]
    await _count(limits, uow, clock, counts)


async def prune_counters(*, uow: UnitOfWork, clock: Clock, limits: RateLimits) -> int:
    """Forget the counters whose window has ended for every limit; how many."""
    return await uow.rate_limits.prune(before=clock() - limits.longest_window)


async def _count(
    limits: RateLimits, uow: UnitOfWork, clock: Clock, counts: list[Count]
) -> None:
    """Count one hit under each (name, key, rate), in order, until one is over.
    Every use case counts the client before the email: one order of row locks
    across transactions, so concurrent requests queue instead of deadlocking."""
    if not limits.enabled:
        return
    now = clock()
    for name, key, rate in counts:
        hits = await uow.rate_limits.hit(_bucket(name, key), rate.window_start(now))
        if hits > rate.hits:
            raise RateLimited(MESSAGE, rate.seconds_left(now))


async def _is_over(
    limits: RateLimits, uow: UnitOfWork, clock: Clock, counts: list[Count]
) -> bool:
    if not limits.enabled:
        return False
    now = clock()
    for name, key, rate in counts:
        hits = await uow.rate_limits.hits(_bucket(name, key), rate.window_start(now))
        if hits >= rate.hits:
            return True
    return False


def _bucket(name: str, key: str) -> str:
    # Hashed: keys of any length fit the column, and no email or address is stored.
    return f"{name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
