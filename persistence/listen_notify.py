"""PostgreSQL LISTEN/NOTIFY transport of the event bus, one connection per process.

The connection is dedicated (not from the SQLAlchemy pool): it LISTENs to a channel
while the process has a local subscriber to it, publishes with `pg_notify`, and is
re-established with exponential backoff when it drops, LISTENing again to every
channel that still has subscribers. A keepalive query finds connections that died
without a word (a NAT or firewall dropping an idle TCP connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass

import asyncpg

from persistence.background import cancel_and_wait
from persistence.fanout import (
    EventBusUnavailable,
    Fanout,
    Subscription,
    check_payload,
)

log = logging.getLogger(__name__)
_PLAIN_NAME = re.compile(r"[a-z0-9_]{1,40}")
# What a dropped or unusable connection raises from asyncpg.
CONNECTION_ERRORS = (asyncpg.InterfaceError, asyncpg.PostgresError, OSError)


def postgres_channel(channel: str) -> str:
    """A valid, unambiguous PostgreSQL identifier for a channel name.

    Names made of [a-z0-9_] keep their text (`project_42` -> `trackql_project_42`);
    any other name is sanitised and suffixed with a hash of the original, so two
    names never share an identifier and none passes 63 bytes.
    """
    if _PLAIN_NAME.fullmatch(channel):
        return f"trackql_{channel}"
    readable = re.sub(r"[^a-z0-9_]+", "_", channel.lower())[:24]
    digest = hashlib.sha256(channel.encode()).hexdigest()[:16]
    return f"trackql_{readable}_{digest}"


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How the dedicated connection is kept alive and re-established (seconds)."""

    connect_timeout: float = 5.0
    first_delay: float = 0.1
    max_delay: float = 10.0
    keepalive: float = 15.0


class PostgresEventBus:
    def __init__(self, dsn: str, reconnect: Reconnect | None = None) -> None:
        self._dsn = dsn
        self._reconnect = reconnect or Reconnect()
        self._fanout = Fanout()
        # asyncpg runs one query at a time per connection: LISTEN, UNLISTEN, NOTIFY
        # and the keepalive take turns.
        self._lock = asyncio.Lock()
        self._connection: asyncpg.Connection | None = None
        self._changed = asyncio.Condition()
        self._generation = 0
        self._attempts = 0
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def generation(self) -> int:
        """How many times the dedicated connection has been established."""
        return self._generation

    @property
    def backend_pid(self) -> int | None:
        connection = self._connection
        return None if connection is None else int(connection.get_server_pid())

    async def start(self) -> None:
        """Connect in the background; returns after the first attempt, and never
        fails: when PostgreSQL is down, the bus keeps trying."""
        if self._supervisor is None:
            self._closed = False
            self._supervisor = asyncio.create_task(self._supervise())
            async with self._changed:
                await self._changed.wait_for(lambda: self._attempts > 0)

    async def close(self) -> None:
        self._closed = True
        self._fanout.end_all()
        supervisor, self._supervisor = self._supervisor, None
        await cancel_and_wait(supervisor)

    async def wait_connected(self, newer_than: int = 0) -> int:
        """Wait until a connection newer than generation `newer_than` is up."""
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._connection is not None and self._generation > newer_than
            )
        return self._generation

    async def publish(self, channel: str, payload: str) -> None:
        check_payload(payload)
        async with self._lock:
            connection = self._usable()
            try:
                await connection.execute(
                    "SELECT pg_notify($1, $2)", postgres_channel(channel), payload
                )
            except CONNECTION_ERRORS as exc:
                raise EventBusUnavailable("could not publish the event") from exc

    def has_subscribers(self, channel: str) -> bool:
        return postgres_channel(channel) in self._fanout.channels()

    async def subscribe(self, channel: str, *, max_queue: int) -> Subscription:
        key = postgres_channel(channel)
        subscription = Subscription(key, max_queue, self._release)
        async with self._lock:
            if self._closed:
                raise EventBusUnavailable("the event bus is closed")
            if self._fanout.add(subscription) and self._connection is not None:
                # Without a connection, the next one LISTENs to every channel.
                await self._listen(self._connection, key)
        return subscription

    async def _release(self, subscription: Subscription) -> None:
        async with self._lock:
            if self._fanout.remove(subscription) and self._connection is not None:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await self._connection.remove_listener(subscription.key, self._on)

    def _usable(self) -> asyncpg.Connection:
        if self._closed:
            raise EventBusUnavailable("the event bus is closed")
        if self._connection is None or self._connection.is_closed():
            raise EventBusUnavailable("the event bus is reconnecting")
        return self._connection

    async def _listen(self, connection: asyncpg.Connection, key: str) -> None:
        # A failure here means the connection is going; the supervisor reconnects
        # and LISTENs to every channel again.
        with contextlib.suppress(*CONNECTION_ERRORS):
            await connection.add_listener(key, self._on)

    def _on(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._fanout.deliver(channel, str(payload))

    async def _supervise(self) -> None:
        delay = self._reconnect.first_delay
        while True:
            connection = await self._connect()
            if connection is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect.max_delay)
                continue
            delay = self._reconnect.first_delay
            try:
                await self._watch(connection)
            finally:
                await self._set_connection(None)
                connection.terminate()
            log.warning("event bus: connection to PostgreSQL lost; reconnecting")

    async def _connect(self) -> asyncpg.Connection | None:
        try:
            connection: asyncpg.Connection = await asyncpg.connect(
                self._dsn, timeout=self._reconnect.connect_timeout
            )
        except (*CONNECTION_ERRORS, TimeoutError) as exc:
            log.warning("event bus: cannot connect to PostgreSQL (%r)", exc)
            await self._set_connection(None)
            return None
        async with self._lock:
            for key in self._fanout.channels():
                await self._listen(connection, key)
            await self._set_connection(connection)
        return connection

    async def _set_connection(self, connection: asyncpg.Connection | None) -> None:
        async with self._changed:
            self._attempts += 1
            self._connection = connection
            if connection is not None:
                self._generation += 1
            self._changed.notify_all()

    async def _watch(self, connection: asyncpg.Connection) -> None:
        """Return when the connection is lost."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), self._reconnect.keepalive)
            except TimeoutError:
                if not await self._alive(connection):
                    return

    async def _alive(self, connection: asyncpg.Connection) -> bool:
        async with self._lock:
            try:
                await connection.fetchval(
                    "SELECT 1", timeout=self._reconnect.connect_timeout
                )
            except (*CONNECTION_ERRORS, TimeoutError):
                return False
        return True
