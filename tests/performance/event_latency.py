"""Publish-to-delivery latency of the event bus between two "workers".

    python -m tests.performance.event_latency [DATABASE_URL] [--events 200]

Two PostgresEventBus instances (separate connections, as two worker processes
would have) on the given PostgreSQL database, default TRACKQL_TEST_DATABASE_URL:
one publishes, the other's subscriber receives. Reported twice: one event at a
time (the latency of a quiet system) and all events back to back (with queueing).
The in-process bus is measured the same way for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

from persistence.events import EventBus, create_event_bus


async def one_at_a_time(publisher: EventBus, listener: EventBus, n: int) -> list[float]:
    latencies = []
    async with await listener.subscribe("bench", max_queue=n + 1) as events:
        for number in range(n):
            started = time.perf_counter()
            await publisher.publish("bench", json.dumps({"n": number}))
            await anext(events)
            latencies.append(time.perf_counter() - started)
    return latencies


async def back_to_back(publisher: EventBus, listener: EventBus, n: int) -> list[float]:
    sent: list[float] = []
    async with await listener.subscribe("bench", max_queue=n + 1) as events:

        async def receive() -> list[float]:
            times = []
            for _ in range(n):
                await anext(events)
                times.append(time.perf_counter())
            return times

        receiving = asyncio.create_task(receive())
        for number in range(n):
            sent.append(time.perf_counter())
            await publisher.publish("bench", json.dumps({"n": number}))
        received = await receiving
    return [got - put for put, got in zip(sent, received, strict=True)]


def summary(name: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    return (
        f"{name:<32} n={len(ms)}  median {statistics.median(ms):.3f} ms  "
        f"p99 {p99:.3f} ms  max {ms[-1]:.3f} ms"
    )


async def measure(publisher: EventBus, listener: EventBus, n: int) -> None:
    for bus in {publisher, listener}:
        await bus.start()
    name = type(listener).__name__
    await one_at_a_time(publisher, listener, 20)  # warm-up
    print(
        summary(f"{name}, one at a time", await one_at_a_time(publisher, listener, n))
    )
    print(summary(f"{name}, back to back", await back_to_back(publisher, listener, n)))
    for bus in {publisher, listener}:
        await bus.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "url", nargs="?", default=os.environ.get("TRACKQL_TEST_DATABASE_URL")
    )
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    if not args.url:
        parser.error("give a PostgreSQL URL or set TRACKQL_TEST_DATABASE_URL")
    asyncio.run(
        measure(create_event_bus(args.url), create_event_bus(args.url), args.events)
    )
    in_process = create_event_bus("sqlite://")
    asyncio.run(measure(in_process, in_process, args.events))


if __name__ == "__main__":
    main()
