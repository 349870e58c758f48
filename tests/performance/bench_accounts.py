"""Prints what logging in costs: argon2 hashing, the in-process login round trip,
and how long `me` takes while a burst of logins is being hashed.

    .venv/bin/python -m tests.performance.bench_accounts

Runs on a fresh SQLite file, or on PostgreSQL when TRACKQL_TEST_DATABASE_URL is
set (it uses that database's tables: point it at a scratch database).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from domain.rate_limits import RateLimits
from domain.security import HASH_WORKERS, hash_password, verify_password
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.engine import create_engine
from persistence.migrate import upgrade
from tests.account_operations import LOGIN, ME, REGISTER

ROUNDS = 20
BURST = 8
PASSWORD = "a benchmark passphrase"


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


async def timed_async(run: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await run()
    return time.perf_counter() - start


async def measure(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    # Rate limits off, as for every load test: 28 logins of one email exceed them.
    settings = Settings(
        secret_key="b" * 48,
        database_url=database_url,
        env="test",
        rate_limits=RateLimits(enabled=False),
    )
    app = create_app(settings, Runtime.build(settings))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):

        async def gql(query: str, variables: Any = None, token: str = "") -> Any:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            body = {"query": query, "variables": variables}
            response = await client.post("/graphql", json=body, headers=headers)
            return response.json()

        email = f"bench-{time.time_ns()}@example.com"
        credentials = {"email": email, "password": PASSWORD}
        registered = await gql(REGISTER, {"input": {**credentials, "name": "B"}})
        token = registered["data"]["register"]["accessToken"]

        async def one_login() -> None:
            result = await gql(LOGIN, {"input": credentials})
            assert "errors" not in result, result

        logins = [await timed_async(one_login) for _ in range(ROUNDS)]
        idle_me = [await timed_async(lambda: gql(ME, token=token)) for _ in range(5)]
        burst = [asyncio.create_task(one_login()) for _ in range(BURST)]
        await asyncio.sleep(0)  # let the burst reach the hashing pool first
        busy_me = await timed_async(lambda: gql(ME, token=token))
        await asyncio.gather(*burst)
    print(f"login round trip (in-process, median of {ROUNDS}): {median_ms(logins)}")
    print(f"me, idle (median of 5): {median_ms(idle_me)}")
    print(f"me, during a burst of {BURST} logins: {busy_me * 1000:.1f} ms")


def main() -> None:
    stored = hash_password(PASSWORD)
    hashes = [timed(lambda: hash_password(PASSWORD)) for _ in range(ROUNDS)]
    verifies = [timed(lambda: verify_password(stored, PASSWORD)) for _ in range(ROUNDS)]
    print(f"cpus: {os.cpu_count()}, argon2 pool: {HASH_WORKERS} threads")
    print(f"argon2id hash (median of {ROUNDS}): {median_ms(hashes)}")
    print(f"argon2id verify (median of {ROUNDS}): {median_ms(verifies)}")
    url = os.environ.get("TRACKQL_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(measure(url or f"sqlite:///{Path(scratch) / 'bench.db'}"))


if __name__ == "__main__":
    main()
