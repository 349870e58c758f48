"""Lockout after repeated failed logins, for known and unknown emails alike."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import LoginThrottle
from graph.settings import Settings
from tests.account_operations import error_of, login
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import PASSWORD, UserFactory

EMAIL = "ada@example.com"


@pytest.fixture
async def ada(session: AsyncSession) -> None:
    await UserFactory.create_async(email=EMAIL)
    await session.commit()  # end the read snapshot the factory left open


async def fail(gql: GraphQLClient, times: int, email: str = EMAIL) -> None:
    for _ in range(times):
        result = await login(gql, email, "not the password")
        assert error_of(result)["message"] == "invalid email or password"


@pytest.mark.usefixtures("ada")
async def test_locks_account_after_five_failed_logins(gql: GraphQLClient) -> None:
    await fail(gql, 5)

    result = await login(gql, EMAIL, PASSWORD)

    error = error_of(result)
    assert error["extensions"]["code"] == "ACCOUNT_LOCKED"
    assert "locked" in error["message"]
    assert 0 < error["extensions"]["retryAfterSeconds"] <= 15 * 60


async def test_an_unknown_email_locks_the_same_way(gql: GraphQLClient) -> None:
    await fail(gql, 5, "nobody@example.com")

    result = await login(gql, "nobody@example.com", PASSWORD)

    assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"


@pytest.mark.usefixtures("ada")
async def test_four_failures_do_not_lock(gql: GraphQLClient) -> None:
    await fail(gql, 4)

    result = await login(gql, EMAIL, PASSWORD)

    assert "errors" not in result


@pytest.mark.usefixtures("ada")
async def test_a_successful_login_resets_the_count(gql: GraphQLClient) -> None:
    await fail(gql, 4)
    await login(gql, EMAIL, PASSWORD)
    await fail(gql, 4)

    result = await login(gql, EMAIL, PASSWORD)

    assert "errors" not in result


@pytest.mark.usefixtures("ada")
async def test_spellings_of_one_email_share_a_count(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await fail(gql, 3, " ADA@example.com")
    await fail(gql, 2, "Ada@Example.Com")

    result = await login(gql, EMAIL, PASSWORD)

    assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"
    emails = (await session.execute(select(LoginThrottle.email))).scalars().all()
    assert emails == [EMAIL]


@pytest.mark.usefixtures("ada")
async def test_the_lock_ends_after_fifteen_minutes(
    gql: GraphQLClient, clock: MovableClock
) -> None:
    await fail(gql, 5)
    clock.advance(timedelta(minutes=14, seconds=59))
    still_locked = await login(gql, EMAIL, PASSWORD)
    clock.advance(timedelta(seconds=2))

    result = await login(gql, EMAIL, PASSWORD)

    assert error_of(still_locked)["extensions"]["code"] == "ACCOUNT_LOCKED"
    assert "errors" not in result


@pytest.mark.usefixtures("ada")
async def test_concurrent_failures_all_count(gql: GraphQLClient) -> None:
    await asyncio.gather(*(fail(gql, 1) for _ in range(5)))

    result = await login(gql, EMAIL, PASSWORD)

    assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"


class TestConfiguredLockout:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, lockout_attempts=2, lockout_minutes=1)

    @pytest.mark.usefixtures("ada")
    async def test_follows_the_configured_attempts_and_minutes(
        self, gql: GraphQLClient
    ) -> None:
        await fail(gql, 2)

        result = await login(gql, EMAIL, PASSWORD)

        assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"
        assert error_of(result)["extensions"]["retryAfterSeconds"] <= 60
