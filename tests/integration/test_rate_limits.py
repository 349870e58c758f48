"""Rate limits on login, register and requestPasswordReset: RATE_LIMITED with
retryAfterSeconds, nothing changed, counted in the database across app instances,
per fixed window, for unknown emails exactly as for known ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from domain.models import AuthSession, MailOutbox, RateLimitCounter, User
from domain.rate_limits import Rate, RateLimits
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from tests.account_operations import REQUEST_RESET, error_of, login, register
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import PASSWORD, UserFactory

EMAIL = "ada@example.com"
UNKNOWN = "nobody@example.com"
WRONG = "not the password"
FIFTEEN_MINUTES = timedelta(minutes=15)
HOUR = timedelta(hours=1)
# Small limits keep the tests short; the per-client ones stay above the per-email
# ones, as the defaults do, so that each test trips the limit it means to.
LIMITS = RateLimits(
    login_per_email=Rate(3, FIFTEEN_MINUTES),
    login_per_client=Rate(5, FIFTEEN_MINUTES),
    register_per_client=Rate(2, HOUR),
    password_reset_per_email=RateLimits().password_reset_per_email,
    password_reset_per_client=Rate(6, HOUR),
)


pytestmark = pytest.mark.usefixtures("just_after_midnight")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, rate_limits=LIMITS)


@pytest.fixture
async def ada(session: AsyncSession) -> User:
    user = await UserFactory.create_async(email=EMAIL)
    await session.commit()  # end the read snapshot the factory left open
    return user


@pytest.fixture
def client_at(app: Starlette) -> Any:
    """`async with client_at("203.0.113.7") as gql:` a client from another address."""

    def connect(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return connect


async def count(session: AsyncSession, model: type[Any]) -> int:
    await session.commit()  # a fresh snapshot: see what the requests committed
    query = select(func.count()).select_from(model)
    return int((await session.execute(query)).scalar_one())


def rate_limited(result: dict[str, Any]) -> int:
    """The retryAfterSeconds of a RATE_LIMITED answer."""
    error = error_of(result)
    assert error["extensions"]["code"] == "RATE_LIMITED", error
    assert error["message"] == "too many requests: try again later"
    retry_after: int = error["extensions"]["retryAfterSeconds"]
    return retry_after


async def request_reset(gql: GraphQLClient, email: str) -> dict[str, Any]:
    return await gql(REQUEST_RESET, {"email": email})


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("email", [EMAIL, UNKNOWN])
async def test_logins_for_one_email_are_limited_known_or_not(
    gql: GraphQLClient, email: str
) -> None:
    for _ in range(3):
        await login(gql, email, WRONG)

    result = await login(gql, email, PASSWORD)

    assert 0 < rate_limited(result) <= 15 * 60


@pytest.mark.usefixtures("ada")
async def test_a_limited_login_with_the_right_password_starts_no_session(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    for _ in range(3):
        assert "errors" not in await login(gql, EMAIL, PASSWORD)

    result = await login(gql, EMAIL, PASSWORD)

    rate_limited(result)
    assert await count(session, AuthSession) == 3


@pytest.mark.usefixtures("ada")
async def test_the_email_limit_holds_from_every_address(
    gql: GraphQLClient, client_at: Any
) -> None:
    for _ in range(3):
        await login(gql, EMAIL, WRONG)

    async with client_at("203.0.113.7") as other:
        result = await login(GraphQLClient(other), EMAIL, PASSWORD)

    rate_limited(result)


@pytest.mark.usefixtures("ada")
async def test_logins_from_one_address_are_limited(
    gql: GraphQLClient, client_at: Any, session: AsyncSession
) -> None:
    for n in range(5):
        await login(gql, f"guess{n}@example.com", WRONG)

    limited = await login(gql, EMAIL, PASSWORD)
    async with client_at("203.0.113.7") as other:
        elsewhere = await login(GraphQLClient(other), EMAIL, PASSWORD)

    rate_limited(limited)
    assert "errors" not in elsewhere
    assert await count(session, AuthSession) == 1


async def test_registrations_from_one_address_are_limited_refused_ones_included(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await register(gql, EMAIL, "a long passphrase")
    taken = await register(gql, EMAIL, "a long passphrase")

    result = await register(gql, "grace@example.com", "a long passphrase")

    assert error_of(taken)["extensions"]["code"] == "CONFLICT"
    assert 0 < rate_limited(result) <= 60 * 60
    assert await count(session, User) == 1


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("email", [EMAIL, UNKNOWN])
async def test_three_reset_requests_an_hour_per_email_known_or_not(
    gql: GraphQLClient, session: AsyncSession, email: str
) -> None:
    answers = [await request_reset(gql, email) for _ in range(3)]
    mails = await count(session, MailOutbox)

    result = await request_reset(gql, email)

    assert answers == [{"data": {"requestPasswordReset": True}}] * 3
    assert 0 < rate_limited(result) <= 60 * 60
    assert await count(session, MailOutbox) == mails == (3 if email == EMAIL else 0)


async def test_reset_requests_from_one_address_are_limited(gql: GraphQLClient) -> None:
    for n in range(6):
        assert "errors" not in await request_reset(gql, f"user{n}@example.com")

    result = await request_reset(gql, "user6@example.com")

    rate_limited(result)


async def test_concurrent_requests_all_count(gql: GraphQLClient) -> None:
    results = await asyncio.gather(*(request_reset(gql, UNKNOWN) for _ in range(6)))

    answered = [r for r in results if "errors" not in r]
    assert len(answered) == 3
    for result in results:
        if "errors" in result:
            rate_limited(result)


@pytest.mark.usefixtures("ada")
async def test_the_limit_lifts_when_its_window_ends(
    gql: GraphQLClient, clock: MovableClock
) -> None:
    for _ in range(3):
        await login(gql, EMAIL, WRONG)
    retry_after = rate_limited(await login(gql, EMAIL, PASSWORD))

    clock.advance(timedelta(seconds=retry_after - 2))
    still_limited = await login(gql, EMAIL, PASSWORD)
    clock.advance(timedelta(seconds=2))
    result = await login(gql, EMAIL, PASSWORD)

    rate_limited(still_limited)
    assert "errors" not in result


@pytest.fixture
async def second_instance(
    app: Starlette, settings: Settings, clock: MovableClock
) -> AsyncIterator[GraphQLClient]:
    """A client of another app with its own runtime and connection pool on the same
    database, as another worker would be."""
    other = create_app(settings, Runtime.build(settings, clock))
    transport = httpx.ASGITransport(app=other)
    async with (
        other.router.lifespan_context(other),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield GraphQLClient(http)


@pytest.mark.usefixtures("ada")
async def test_limits_hold_across_app_instances_on_one_database(
    gql: GraphQLClient, second_instance: GraphQLClient
) -> None:
    await request_reset(gql, EMAIL)
    await request_reset(second_instance, EMAIL)
    await request_reset(gql, EMAIL)

    result = await request_reset(second_instance, EMAIL)

    rate_limited(result)


async def test_counters_of_ended_windows_are_pruned(
    gql: GraphQLClient, runtime: Runtime, clock: MovableClock, session: AsyncSession
) -> None:
    await request_reset(gql, UNKNOWN)
    clock.advance(HOUR)
    await request_reset(gql, "someone@example.com")

    pruned = await runtime.housekeeping.run_once()

    # The first request's two counters (address and email) are from a window that
    # ended; the second's began a second ago.
    assert pruned == 2
    assert await count(session, RateLimitCounter) == 2


class TestTrustedProxies:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, trusted_proxies=("127.0.0.1",))

    async def test_a_trusted_proxy_forwards_each_clients_address(
        self, client: httpx.AsyncClient
    ) -> None:
        first = GraphQLClient(client, headers={"x-forwarded-for": "203.0.113.1"})
        second = GraphQLClient(client, headers={"x-forwarded-for": "203.0.113.2"})
        await register(first, "a@example.com", "a long passphrase")
        await register(first, "b@example.com", "a long passphrase")

        other = await register(second, "c@example.com", "a long passphrase")
        again = await register(first, "d@example.com", "a long passphrase")

        assert "errors" not in other
        rate_limited(again)

    async def test_forwarded_addresses_from_others_are_ignored(
        self, client_at: Any
    ) -> None:
        async with client_at("198.51.100.9") as http:
            for n in range(2):
                forged = {"x-forwarded-for": f"203.0.113.{n}"}
                await register(
                    GraphQLClient(http, headers=forged),
                    f"u{n}@example.com",
                    "a long passphrase",
                )
            forged = {"x-forwarded-for": "203.0.113.99"}
            result = await register(
                GraphQLClient(http, headers=forged), "z@example.com", "a long phrase"
            )

        rate_limited(result)


async def test_forwarded_addresses_are_ignored_without_trusted_proxies(
    client: httpx.AsyncClient,
) -> None:
    for n in range(2):
        forged = GraphQLClient(client, headers={"x-forwarded-for": f"203.0.113.{n}"})
        await register(forged, f"u{n}@example.com", "a long passphrase")

    forged = GraphQLClient(client, headers={"x-forwarded-for": "203.0.113.99"})
    result = await register(forged, "z@example.com", "a long passphrase")

    rate_limited(result)


class TestRateLimitsOff:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        configured = Settings.from_env(
            {
                "TRACKQL_ENV": "test",
                "TRACKQL_RATE_LIMITS": "off",
                "TRACKQL_RATE_LIMIT_LOGIN_PER_EMAIL": "1/hour",
                "TRACKQL_RATE_LIMIT_LOGIN_PER_CLIENT": "1/hour",
                "TRACKQL_RATE_LIMIT_PASSWORD_RESET_PER_EMAIL": "1/hour",
                "TRACKQL_RATE_LIMIT_REGISTER_PER_CLIENT": "1/hour",
            }
        )
        return replace(settings, rate_limits=configured.rate_limits)

    @pytest.mark.usefixtures("ada")
    async def test_nothing_is_rate_limited(self, gql: GraphQLClient) -> None:
        logins = [await login(gql, EMAIL, PASSWORD) for _ in range(3)]
        resets = [await request_reset(gql, EMAIL) for _ in range(3)]
        registered = [
            await register(gql, f"u{n}@example.com", "a long passphrase")
            for n in range(3)
        ]

        assert not any("errors" in r for r in logins + resets + registered)

    @pytest.mark.usefixtures("ada")
    async def test_lockout_still_locks(self, gql: GraphQLClient) -> None:
        for _ in range(5):
            await login(gql, EMAIL, WRONG)

        result = await login(gql, EMAIL, PASSWORD)

        assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"
