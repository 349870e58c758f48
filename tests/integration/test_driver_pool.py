"""The driver reads' own asyncpg connections (persistence/driver_pool.py), on the
real server: reused while healthy, replaced when dropped, stale or recycled, and
never more than the pool's size."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from graph.settings import Settings
from persistence.driver_pool import REFUSED_BACKOFF_SECONDS, DriverPool, Held
from persistence.engine import create_driver_pool, normalize_url
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="driver reads are PostgreSQL's"
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dsn(settings: Settings) -> str:
    url = normalize_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[tuple[DriverPool, Clock]]:
    clock = Clock()

    async def connect() -> Any:
        return await asyncpg.connect(dsn)

    pool = DriverPool(connect, size=2, recycle_seconds=60, clock=clock)
    yield pool, clock
    await pool.close()


async def held(pool: DriverPool) -> Held:
    taken = await pool.acquire()
    assert taken is not None
    return taken


async def full_with_a_waiter(
    pool: DriverPool,
) -> tuple[Held, Held, asyncio.Future[Held | None]]:
    """Both connections of a pool of two held, and a third acquire queued."""
    one, two = await held(pool), await held(pool)
    waiting = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)  # one turn of the loop: it queues, opening nothing
    assert pool.waiting == 1
    return one, two, waiting


async def pid_of(pool: DriverPool) -> int:
    taken = await held(pool)
    pid = int(taken.connection.get_server_pid())
    pool.release(taken)
    return pid


async def test_a_released_connection_is_the_next_one_taken(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    first = await pid_of(drivers)

    assert await pid_of(drivers) == first
    assert drivers.open_connections == 1


async def test_with_every_connection_busy_the_next_released_is_handed_over(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    one, two, waiting = await full_with_a_waiter(drivers)

    drivers.release(two)
    assert await waiting is two
    drivers.release(two)
    drivers.release(one)
    assert drivers.open_connections == 2


async def test_a_dropped_busy_connection_lets_a_waiter_open_another(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    one, two, waiting = await full_with_a_waiter(drivers)
    one.connection.terminate()

    drivers.release(one, failure=ConnectionResetError())
    replacement = await waiting

    assert replacement is not None
    assert replacement.connection is not one.connection
    assert not replacement.connection.is_closed()
    drivers.release(replacement)
    drivers.release(two)
    assert drivers.open_connections == 2


async def test_a_wait_longer_than_the_timeout_gives_up(dsn: str) -> None:
    async def connect() -> Any:
        return await asyncpg.connect(dsn)

    drivers = DriverPool(connect, size=1, recycle_seconds=60, timeout_seconds=0.01)
    only = await held(drivers)

    with pytest.raises(TimeoutError):
        await drivers.acquire()
    drivers.release(only)
    assert await drivers.acquire() is only
    drivers.release(only)
    await drivers.close()


async def test_a_statement_the_server_refused_leaves_its_connection_in_use(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    held = await drivers.acquire()
    assert held is not None
    with pytest.raises(asyncpg.DivisionByZeroError) as refused:
        await held.connection.fetch("SELECT 1 / 0")
    drivers.release(held, failure=refused.value)

    again = await drivers.acquire()
    assert again is held
    assert await again.connection.fetchval("SELECT 2") == 2
    drivers.release(again)


async def test_a_dropped_connection_takes_the_idle_ones_with_it(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    one, two = await held(drivers), await held(drivers)
    idle_pid = two.connection.get_server_pid()
    drivers.release(two)
    one.connection.terminate()  # as a restart leaves it

    drivers.release(one, failure=ConnectionResetError())

    assert drivers.open_connections == 0
    assert two.connection.is_closed()
    assert await pid_of(drivers) != idle_pid


async def test_a_connection_older_than_the_recycle_age_is_replaced(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, clock = pool
    first = await pid_of(drivers)
    clock.now = 61

    assert await pid_of(drivers) != first
    assert drivers.open_connections == 1


async def test_an_unreachable_server_raises_and_a_refusing_one_gives_none(
    dsn: str,
) -> None:
    unreachable = create_driver_pool("postgresql://postgres@127.0.0.1:1/postgres")
    missing = normalize_url(dsn).set(database="trackql_no_such_database")
    refusing = create_driver_pool(missing.render_as_string(hide_password=False))
    assert unreachable is not None
    assert refusing is not None

    with pytest.raises(ConnectionRefusedError):
        await unreachable.acquire()
    assert await refusing.acquire() is None
    assert (unreachable.open_connections, refusing.open_connections) == (0, 0)


async def test_a_refusing_server_is_not_asked_again_for_a_while(dsn: str) -> None:
    clock = Clock()
    attempts = []
    missing = normalize_url(dsn).set(database="trackql_no_such_database")

    async def connect() -> Any:
        attempts.append(clock.now)
        return await asyncpg.connect(missing.render_as_string(hide_password=False))

    drivers = DriverPool(connect, size=2, recycle_seconds=60, clock=clock)
    answers = [await drivers.acquire()]
    clock.now = REFUSED_BACKOFF_SECONDS - 1
    answers.append(await drivers.acquire())
    clock.now = REFUSED_BACKOFF_SECONDS
    answers.append(await drivers.acquire())

    assert answers == [None, None, None]
    assert attempts == [0, REFUSED_BACKOFF_SECONDS]


async def test_a_closed_pool_closes_its_idle_connections_and_opens_none(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    held = await drivers.acquire()
    assert held is not None
    drivers.release(held)

    await drivers.close()

    assert held.connection.is_closed()
    assert drivers.open_connections == 0
    assert await drivers.acquire() is None
