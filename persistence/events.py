"""The event bus: committed changes fanned out to their subscribers, across workers.

One interface, two transports chosen by the database URL: `InProcessEventBus` for the
embedded SQLite default (one process serves everything) and `PostgresEventBus`
(LISTEN/NOTIFY, persistence/listen_notify.py) so that every worker on every machine
sees every event. Payloads are JSON text under 8000 bytes. Delivery is at most once:
a subscriber that falls behind is cut off (persistence/fanout.py), and NOTIFY keeps
nothing for a process whose connection is being re-established.

    bus = create_event_bus(database_url)
    await bus.start()
    async with await bus.subscribe(project_channel(42), max_queue=100) as events:
        async for payload in events:   # may raise SubscriberOverflow
            ...
    await bus.publish(project_channel(42), '{"kind": "CREATED"}')
    await bus.close()
"""

from __future__ import annotations

from typing import Protocol

from persistence.engine import is_sqlite, normalize_url
from persistence.fanout import (
    MAX_PAYLOAD_BYTES,
    EventBusUnavailable,
    Fanout,
    SubscriberOverflow,
    Subscription,
    check_payload,
)
from persistence.listen_notify import PostgresEventBus, Reconnect, postgres_channel

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EventBus",
    "EventBusUnavailable",
    "InProcessEventBus",
    "PostgresEventBus",
    "Reconnect",
    "SubscriberOverflow",
    "Subscription",
    "create_event_bus",
    "postgres_channel",
    "project_channel",
]


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None:
        """Disconnect, and end every subscription's iteration."""

    async def publish(self, channel: str, payload: str) -> None:
        """Raises EventBusUnavailable when the event cannot be sent."""

    def has_subscribers(self, channel: str) -> bool:
        """Whether this process has a subscriber of `channel` now."""
        ...

    async def subscribe(self, channel: str, *, max_queue: int) -> Subscription:
        """Subscribed once this returns: every later publish reaches it (LISTEN
        has been sent), so a caller may read state and then wait for changes."""
        ...


def project_channel(project_id: int) -> str:
    """The channel of one project's task events."""
    return f"project_{project_id}"


def create_event_bus(database_url: str, reconnect: Reconnect | None = None) -> EventBus:
    url = normalize_url(database_url)
    if is_sqlite(url):
        return InProcessEventBus()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresEventBus(dsn, reconnect)


class InProcessEventBus:
    def __init__(self) -> None:
        self._fanout = Fanout()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        self._fanout.end_all()

    async def publish(self, channel: str, payload: str) -> None:
        check_payload(payload)
        if self._closed:
            raise EventBusUnavailable("the event bus is closed")
        self._fanout.deliver(channel, payload)

    def has_subscribers(self, channel: str) -> bool:
        return channel in self._fanout.channels()

    async def subscribe(self, channel: str, *, max_queue: int) -> Subscription:
        if self._closed:
            raise EventBusUnavailable("the event bus is closed")
        subscription = Subscription(channel, max_queue, self._release)
        self._fanout.add(subscription)
        return subscription

    async def _release(self, subscription: Subscription) -> None:
        self._fanout.remove(subscription)
