"""What a failed login costs: an unknown email an argon2 verify too, so timing tells
no user apart; an input longer than any accepted one no hash at all."""

from __future__ import annotations

import statistics
import time

from sqlalchemy.ext.asyncio import AsyncSession

from tests.account_operations import error_of, login
from tests.conftest import GraphQLClient
from tests.factories import UserFactory

ROUNDS = 4  # below the lockout threshold, so every attempt is verified
WRONG = "not the password"


async def timed_failure(gql: GraphQLClient, email: str, password: str = WRONG) -> float:
    start = time.perf_counter()
    result = await login(gql, email, password)
    elapsed = time.perf_counter() - start
    assert error_of(result)["message"] == "invalid email or password"
    return elapsed


async def test_an_unknown_email_costs_about_what_a_known_one_does(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await UserFactory.create_async(email="known@example.com")
    await session.commit()

    known = [await timed_failure(gql, "known@example.com") for _ in range(ROUNDS)]
    unknown = [
        await timed_failure(gql, f"nobody{i}@example.com") for i in range(ROUNDS)
    ]

    # Tens to hundreds of milliseconds of argon2 against a few of SQL: skipping
    # the verify would put the ratio near 0.03; machine noise stays far above 0.3.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert ratio > 0.3


async def test_an_over_long_password_is_refused_without_hashing(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await UserFactory.create_async(email="known@example.com")
    await session.commit()
    over_long = "x" * 2048

    hashed = [await timed_failure(gql, f"a{i}@example.com") for i in range(ROUNDS)]
    refused = [
        await timed_failure(gql, f"b{i}@example.com", over_long) for i in range(ROUNDS)
    ]
    known = await timed_failure(gql, "known@example.com", over_long)

    # The mirror of the test above: without the verify the ratio is near 0.03.
    ratio = statistics.median(refused) / statistics.median(hashed)
    assert ratio < 0.3
    assert known < statistics.median(hashed)


async def test_an_over_long_email_is_invalid_credentials(gql: GraphQLClient) -> None:
    result = await login(gql, "a" * 2048 + "@example.com", WRONG)

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"
    assert error_of(result)["message"] == "invalid email or password"
