"""The driver reads' own asyncpg connections (persistence/driver_pool.py), on the
real server: reused while healthy, replaced when dropped, stale or recycled, and
never more than the pool's size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from graph.settings import Settings
from persistence.driver_pool import DriverPool, Held
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


async def test_no_more_connections_than_the_size(
    pool: tuple[DriverPool, Clock],
) -> None:
    drivers, _ = pool
    one, two = await held(drivers), await held(drivers)

    assert await drivers.acquire() is None
    drivers.release(one)
    again = await drivers.acquire()
    assert again is one
    drivers.release(again)
    drivers.release(two)
    assert drivers.open_connections == 2


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
