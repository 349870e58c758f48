"""Local fan-out: one bounded queue per subscriber, never blocking the publisher.

Both event-bus transports end here: a payload for a channel is offered to each of the
process's subscribers of that channel. A subscriber that falls behind by more than its
queue holds is cut off with `SubscriberOverflow` instead of slowing anyone down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

# PostgreSQL's default limit: a NOTIFY payload must be shorter than 8000 bytes. The
# in-process bus enforces it too, so a payload too big for production fails in tests.
MAX_PAYLOAD_BYTES = 8000
_CLOSED = object()


class SubscriberOverflow(Exception):
    """The subscriber fell behind by more than its queue holds; events were dropped."""


class EventBusUnavailable(ConnectionError):
    """The bus cannot publish or subscribe: closed, or reconnecting to PostgreSQL."""


def check_payload(payload: str) -> None:
    if len(payload.encode()) >= MAX_PAYLOAD_BYTES:
        raise ValueError(f"event payload must be under {MAX_PAYLOAD_BYTES} bytes")


class Subscription:
    """An async iterator of one channel's payloads, ended by `close()` or by leaving
    `async with`. Raises SubscriberOverflow once more than `max_queue` wait unread."""

    def __init__(
        self,
        key: str,
        max_queue: int,
        release: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.key = key
        self.max_queue = max_queue
        self.overflowed = False
        self.closed = False
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max_queue)
        self._release = release

    def offer(self, payload: str) -> None:
        """Called by the bus for each payload; never blocks."""
        if self.closed or self.overflowed:
            return
        try:
            self._queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True

    def end(self) -> None:
        """Stop iterating, without telling the bus (it is shutting down)."""
        self.closed = True
        if self._queue.empty():
            # A consumer may be waiting on the empty queue: wake it.
            self._queue.put_nowait(_CLOSED)

    async def close(self) -> None:
        if not self.closed:
            self.end()
            await self._release(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        # Overflow wins over queued payloads: the consumer must resynchronise anyway,
        # and stale payloads would only delay it.
        if self.overflowed:
            raise SubscriberOverflow(
                f"subscriber fell more than {self.max_queue} events behind"
            )
        if self.closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, str):
            return item
        raise StopAsyncIteration

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class Fanout:
    """The local subscribers of each channel key."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> bool:
        """True when it is the channel's first local subscriber."""
        subscribers = self._subscribers.setdefault(subscription.key, set())
        subscribers.add(subscription)
        return len(subscribers) == 1

    def remove(self, subscription: Subscription) -> bool:
        """True when it was the channel's last local subscriber."""
        subscribers = self._subscribers.get(subscription.key)
        if subscribers is None or subscription not in subscribers:
            return False
        subscribers.remove(subscription)
        if subscribers:
            return False
        del self._subscribers[subscription.key]
        return True

    def deliver(self, key: str, payload: str) -> None:
        for subscription in tuple(self._subscribers.get(key, ())):
            subscription.offer(payload)

    def channels(self) -> list[str]:
        return list(self._subscribers)

    def end_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.end()
        self._subscribers.clear()
