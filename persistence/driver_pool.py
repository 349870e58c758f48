"""asyncpg connections of our own for the driver reads of read-only units of work.

A request that only reads (most of them) would otherwise check out a SQLAlchemy
AsyncConnection to reach asyncpg: the checkout, its greenlet and the return to the
pool cost about 80 µs of CPU, four times the statement itself (bench/README.md).
Here a statement takes an idle connection from a list and puts it back.

Read-only units of work run every statement in autocommit at READ COMMITTED, where
each statement takes its own snapshot: which connection runs it does not change
what it sees. When all its connections are busy, a statement waits for the
next one released (up to the pool timeout): holding a connection only for the
length of one statement, a handful serve a worker. When a statement fails on
one, or the server refuses new ones, the unit of work runs the statement
through SQLAlchemy instead, with SQLAlchemy's errors and invalidation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

log = logging.getLogger(__name__)
# After the server refused a connection (too many, starting up), statements go
# through SQLAlchemy for this long before the next attempt: not one refused
# connection (and one warning) per statement.
REFUSED_BACKOFF_SECONDS = 5.0
Connect = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class Held:
    connection: Any  # asyncpg.Connection
    born: float


class DriverPool:
    def __init__(
        self,
        connect: Connect,
        *,
        size: int,
        recycle_seconds: float,
        timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout_seconds
        self._recycle = recycle_seconds
        self._clock = clock
        self._idle: list[Held] = []
        # Statements waiting for a connection, first come first served; a waiter is
        # woken with a connection, or with None to look again (one was dropped).
        self._waiters: deque[asyncio.Future[Held | None]] = deque()
        self._open = 0  # idle and held
        self._closed = False
        self._refused_until = float("-inf")

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def waiting(self) -> int:
        """Statements waiting for a connection now."""
        return len(self._waiters)

    async def acquire(self) -> Held | None:
        """An idle connection, a new one while below the size, one released by
        another statement when all are busy, or None (closed, or refused). A server
        that cannot be reached raises (OSError, TimeoutError), as does a wait
        longer than the timeout: SQLAlchemy would wait as long again, past the
        time a request is answered in."""
        while True:
            while self._idle:
                held = self._idle.pop()
                if not self._stale(held):
                    return held
                self._discard(held)
            if self._closed or self._clock() < self._refused_until:
                return None
            if self._open < self._size:
                return await self._new()
            handed = await self._wait()
            if handed is not None:
                return handed

    async def _wait(self) -> Held | None:
        waiter: asyncio.Future[Held | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._timeout):
                return await waiter
        except BaseException:
            handed = (
                None if waiter.cancelled() or not waiter.done() else waiter.result()
            )
            if handed is not None:
                self.release(handed)  # handed over as we gave up
            elif not waiter.done():
                self._waiters.remove(waiter)
            raise

    async def _new(self) -> Held | None:
        self._open += 1
        try:
            connection = await self._connect()
        except BaseException as failure:
            self._open -= 1
            self._hand_over(None)  # a waiter may try for itself
            if isinstance(failure, OSError | TimeoutError) or not isinstance(
                failure, Exception
            ):
                raise
            # The server answered and refused (starting up, too many connections):
            # SQLAlchemy's pool may still have a connection to run the statement on.
            self._refused_until = self._clock() + REFUSED_BACKOFF_SECONDS
            log.warning("driver connection refused", exc_info=True)
            return None
        return Held(connection, self._clock())

    def release(self, held: Held, *, failure: BaseException | None = None) -> None:
        """Back to the idle list, unless the statement failed in a way that may have
        left the connection unusable. A connection the server dropped makes every
        idle one suspect (a restart drops them all), as SQLAlchemy's pool does."""
        lost = bool(held.connection.is_closed())
        usable = failure is None or isinstance(failure, asyncpg.PostgresError)
        if usable and not lost and not self._closed:
            if not self._hand_over(held):
                self._idle.append(held)
            return
        self._discard(held)
        if lost:
            for idle in self._idle:
                self._discard(idle)
            self._idle.clear()
        self._hand_over(None)  # room for a new connection: a waiter may open it

    def _hand_over(self, held: Held | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        while self._hand_over(None):
            pass
        idle, self._idle = self._idle, []
        for held in idle:
            self._open -= 1
            try:
                await held.connection.close(timeout=2)
            except Exception:
                held.connection.terminate()

    def _stale(self, held: Held) -> bool:
        age = self._clock() - held.born
        return bool(held.connection.is_closed()) or age > self._recycle

    def _discard(self, held: Held) -> None:
        self._open -= 1
        held.connection.terminate()
