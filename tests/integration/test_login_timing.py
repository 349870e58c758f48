"""No user enumeration by timing: an unknown email costs an argon2 verify too."""

from __future__ import annotations

import statistics
import time

from sqlalchemy.ext.asyncio import AsyncSession

from tests.account_operations import error_of, login
from tests.conftest import GraphQLClient
from tests.factories import UserFactory

ROUNDS = 4  # below the lockout threshold, so every attempt is verified


async def timed_failure(gql: GraphQLClient, email: str) -> float:
    start = time.perf_counter()
    result = await login(gql, email, "not the password")
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
