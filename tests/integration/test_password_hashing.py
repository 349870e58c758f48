"""A password's argon2 hash (about 100 ms of CPU, more while others queue for the
hash threads) is made before its mutation's transaction opens: logins and
registrations waiting for theirs hold no write lock, row lock or pooled
connection, so other writers go on; a password changed in between is not missed;
an attempt refused anyway spends no hash."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from domain import security
from domain.models import AuthSession, OneTimeToken, TokenPurpose, User
from domain.rate_limits import Rate, RateLimits
from domain.security import HASH_WORKERS, hash_password, new_opaque_token
from graph.settings import Settings
from tests.account_operations import LOGIN, RESET, error_of, login, register
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import PASSWORD, UserFactory, project_with_members
from tests.integration.graphql import gid
from tests.websocket import serving

EMAIL = "ada@example.com"
NEW_PASSWORD = "a brand new passphrase"
CREATE_TASK = """
mutation ($p: ID!) { createTask(input: {projectId: $p, title: "Go on"}) { title } }
"""
HOUR = timedelta(hours=1)
# Small, so that the tests that mean to trip one are short; the per-email one above
# the lockout's five failures.
LIMITS = RateLimits(login_per_email=Rate(6, HOUR), register_per_client=Rate(2, HOUR))


pytestmark = pytest.mark.usefixtures("just_after_midnight")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One pooled connection: a login that held it while hashing would starve every
    # other request on PostgreSQL, as SQLite's single write lock does.
    pool = replace(settings.pool, size=1, overflow=0, timeout_seconds=1)
    return replace(settings, pool=pool, rate_limits=LIMITS)


@pytest.fixture
async def ada(session: AsyncSession) -> User:
    user = await UserFactory.create_async(email=EMAIL)
    await session.commit()  # end the read snapshot the factory left open
    return user


@asynccontextmanager
async def hash_threads_busy() -> AsyncIterator[None]:
    """Every argon2 thread kept busy until the block ends: hashes queue meanwhile."""
    release = threading.Event()
    running = threading.Semaphore(0)

    def occupy() -> None:
        running.release()
        release.wait()

    occupied = [security._pool.submit(occupy) for _ in range(HASH_WORKERS)]
    for _ in occupied:
        await asyncio.to_thread(running.acquire)
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*(asyncio.wrap_future(f) for f in occupied))


async def queued_hashes(count: int) -> None:
    """Wait until `count` hashes wait for a thread (a guard, not a pause: it ends as
    soon as they do)."""
    async with asyncio.timeout(10):
        # The state is a thread pool's queue length, which signals nothing.
        while security._pool._work_queue.qsize() < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def reset_token(session: AsyncSession, user: User, now: datetime) -> str:
    """A password reset token of `user`, as the mailed link carries it."""
    token, token_hash = new_opaque_token()
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=TokenPurpose.PASSWORD_RESET,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + HOUR,
        )
    )
    await session.commit()
    return token


async def reset(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return await gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})


async def test_writes_go_on_while_logins_registrations_and_resets_wait_for_hashes(
    gql: GraphQLClient,
    ada: User,
    token_for: Any,
    session: AsyncSession,
    clock: MovableClock,
) -> None:
    project = await project_with_members(ada)
    project_id = gid("Project", project.id)
    writer = gql.as_user(await token_for(ada))
    token = await reset_token(session, await UserFactory.create_async(), clock())
    await session.commit()  # let go of the one pooled connection

    async with hash_threads_busy():
        waiting = [
            asyncio.ensure_future(login(gql, EMAIL, PASSWORD)),
            asyncio.ensure_future(login(gql, "nobody@example.com", PASSWORD)),
            asyncio.ensure_future(register(gql, "new@example.com", NEW_PASSWORD)),
            asyncio.ensure_future(reset(gql, token)),
        ]
        await queued_hashes(len(waiting))
        created = await writer(CREATE_TASK, {"p": project_id})
        assert not any(task.done() for task in waiting)
    known, unknown, registered, was_reset = await asyncio.gather(*waiting)

    assert created == {"data": {"createTask": {"title": "Go on"}}}
    assert known["data"]["login"]["user"]["email"] == EMAIL
    assert error_of(unknown)["message"] == "invalid email or password"
    assert registered["data"]["register"]["user"]["email"] == "new@example.com"
    assert was_reset == {"data": {"resetPassword": True}}


async def test_a_password_changed_while_a_login_waits_is_checked_again(
    gql: GraphQLClient, ada: User, session: AsyncSession
) -> None:
    async with hash_threads_busy():
        with_the_old = asyncio.ensure_future(login(gql, EMAIL, PASSWORD))
        await queued_hashes(1)
        await session.execute(
            update(User)
            .where(User.id == ada.id)
            .values(password_hash=hash_password(NEW_PASSWORD))
        )
        await session.commit()
    refused = await with_the_old
    accepted = await login(gql, EMAIL, NEW_PASSWORD)

    assert error_of(refused)["message"] == "invalid email or password"
    assert accepted["data"]["login"]["user"]["email"] == EMAIL


@pytest.mark.usefixtures("ada")
async def test_a_locked_account_is_refused_without_a_hash(gql: GraphQLClient) -> None:
    for _ in range(5):
        await login(gql, EMAIL, "not the password")

    # With every hash thread busy, an attempt that needed one would not finish.
    async with hash_threads_busy(), asyncio.timeout(10):
        result = await login(gql, EMAIL, PASSWORD)

    assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"


@pytest.mark.usefixtures("ada")
async def test_a_rate_limited_login_is_refused_without_a_hash(
    gql: GraphQLClient, settings: Settings
) -> None:
    for _ in range(settings.rate_limits.login_per_email.hits):
        await login(gql, EMAIL, PASSWORD)

    async with hash_threads_busy(), asyncio.timeout(10):
        result = await login(gql, EMAIL, PASSWORD)

    assert error_of(result)["extensions"]["code"] == "RATE_LIMITED"


async def test_a_rate_limited_registration_is_refused_without_a_hash(
    gql: GraphQLClient, settings: Settings
) -> None:
    for n in range(settings.rate_limits.register_per_client.hits):
        await register(gql, f"new{n}@example.com", NEW_PASSWORD)

    async with hash_threads_busy(), asyncio.timeout(10):
        result = await register(gql, "one.more@example.com", NEW_PASSWORD)

    assert error_of(result)["extensions"]["code"] == "RATE_LIMITED"


async def test_a_login_whose_client_leaves_gives_up_its_queued_hash(
    app: Starlette, session: AsyncSession, ada: User
) -> None:
    body = {
        "query": LOGIN,
        "variables": {"input": {"email": EMAIL, "password": PASSWORD}},
    }

    async with serving(app) as (url, server), hash_threads_busy():
        http_url = url.replace("ws://", "http://")
        async with httpx.AsyncClient() as client:
            leaving = asyncio.ensure_future(client.post(http_url, json=body))
            await queued_hashes(1)
            leaving.cancel()
        # Every hash thread is still busy: a request that waited for one would not end.
        async with asyncio.timeout(10):
            while server.server_state.tasks:  # noqa: ASYNC110 - uvicorn's own state
                await asyncio.sleep(0.01)
    logins = await session.scalar(select(func.count()).select_from(AuthSession))

    assert logins == 0


async def test_an_unknown_reset_token_is_refused_without_a_hash(
    gql: GraphQLClient,
) -> None:
    async with hash_threads_busy(), asyncio.timeout(10):
        result = await reset(gql, "not-a-token")

    assert error_of(result)["extensions"]["fields"] == {
        "token": "is invalid or expired"
    }
