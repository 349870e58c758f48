"""The event bus: in-process and over PostgreSQL LISTEN/NOTIFY, where two bus
instances stand for two workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from persistence.events import (
    EventBus,
    InProcessEventBus,
    PostgresEventBus,
    SubscriberOverflow,
    Subscription,
    create_event_bus,
)
from tests.conftest import POSTGRES_URL

needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None, reason="needs TRACKQL_TEST_DATABASE_URL"
)
WAIT = 5.0


async def next_payload(subscription: Subscription) -> str:
    return await asyncio.wait_for(anext(subscription), WAIT)


async def payloads_until(subscription: Subscription, last: str) -> list[str]:
    received = [await next_payload(subscription)]
    while received[-1] != last:
        received.append(await next_payload(subscription))
    return received


@pytest.fixture(params=["in_process", pytest.param("postgres", marks=needs_postgres)])
async def bus(
    request: pytest.FixtureRequest, database_url: str
) -> AsyncIterator[EventBus]:
    url = "sqlite+aiosqlite://" if request.param == "in_process" else database_url
    bus = create_event_bus(url)
    await bus.start()
    yield bus
    await bus.close()


async def test_delivers_exactly_the_published_payloads_in_order(bus: EventBus) -> None:
    subscription = await bus.subscribe("project_1", max_queue=10)

    for payload in ["one", "two", "three", "end"]:
        await bus.publish("project_1", payload)
    received = await payloads_until(subscription, "end")

    assert received == ["one", "two", "three", "end"]


async def test_every_subscriber_of_a_channel_receives_each_payload(
    bus: EventBus,
) -> None:
    first = await bus.subscribe("project_1", max_queue=10)
    second = await bus.subscribe("project_1", max_queue=10)
    elsewhere = await bus.subscribe("project_2", max_queue=10)

    await bus.publish("project_1", "created")
    await bus.publish("project_2", "end")

    assert await next_payload(first) == "created"
    assert await next_payload(second) == "created"
    assert await next_payload(elsewhere) == "end"


async def test_a_slow_subscriber_overflows_without_holding_back_the_others(
    bus: EventBus,
) -> None:
    slow = await bus.subscribe("project_1", max_queue=2)
    fast = await bus.subscribe("project_1", max_queue=100)

    for number in range(5):
        await bus.publish("project_1", str(number))
    received = await payloads_until(fast, "4")

    assert received == ["0", "1", "2", "3", "4"]
    assert slow.overflowed
    with pytest.raises(SubscriberOverflow):
        await next_payload(slow)


async def test_close_ends_iteration_and_stops_delivery(bus: EventBus) -> None:
    leaving = await bus.subscribe("project_1", max_queue=10)
    staying = await bus.subscribe("project_1", max_queue=10)
    waiting = asyncio.ensure_future(anext(leaving))

    await leaving.close()
    await bus.publish("project_1", "after")

    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, WAIT)
    assert [payload async for payload in leaving] == []
    assert await next_payload(staying) == "after"


async def test_resubscribing_after_the_last_subscriber_left_receives_again(
    bus: EventBus,
) -> None:
    async with await bus.subscribe("project_1", max_queue=10):
        pass

    again = await bus.subscribe("project_1", max_queue=10)
    await bus.publish("project_1", "back")

    assert await next_payload(again) == "back"


async def test_closing_the_bus_ends_every_subscription(bus: EventBus) -> None:
    subscription = await bus.subscribe("project_1", max_queue=10)

    await bus.close()

    assert [payload async for payload in subscription] == []


async def test_refuses_payloads_that_notify_could_not_carry(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="8000 bytes"):
        await bus.publish("project_1", "x" * 8000)


async def test_in_process_bus_is_chosen_for_sqlite() -> None:
    assert isinstance(create_event_bus("sqlite:///x.db"), InProcessEventBus)


@pytest.fixture
async def workers(database_url: str) -> AsyncIterator[tuple[PostgresEventBus, ...]]:
    buses = tuple(create_event_bus(database_url) for _ in range(2))
    for bus in buses:
        assert isinstance(bus, PostgresEventBus)
        await bus.start()
    yield buses  # type: ignore[misc]
    for bus in buses:
        await bus.close()


@needs_postgres
async def test_a_publish_in_one_worker_reaches_a_subscriber_in_another(
    workers: tuple[PostgresEventBus, PostgresEventBus],
) -> None:
    publisher, listener = workers
    subscription = await listener.subscribe("project_7", max_queue=10)

    await publisher.publish("project_7", '{"kind": "CREATED"}')

    assert await next_payload(subscription) == '{"kind": "CREATED"}'


@needs_postgres
async def test_listens_again_after_the_connection_is_killed(
    workers: tuple[PostgresEventBus, PostgresEventBus], database_url: str
) -> None:
    publisher, listener = workers
    subscription = await listener.subscribe("project_7", max_queue=10)
    generation, pid = listener.generation, listener.backend_pid

    admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    await admin.execute("SELECT pg_terminate_backend($1)", pid)
    await admin.close()
    await asyncio.wait_for(listener.wait_connected(newer_than=generation), WAIT)
    await publisher.publish("project_7", "after the outage")

    assert listener.backend_pid != pid
    assert await next_payload(subscription) == "after the outage"
