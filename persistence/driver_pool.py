"""asyncpg connections of our own for the driver reads of read-only units of work.

A request that only reads (most of them) would otherwise check out a SQLAlchemy
AsyncConnection to reach asyncpg: the checkout, its greenlet and the return to the
pool cost about 80 µs of CPU, four times the statement itself (bench/README.md).
Here a statement takes an idle connection from a list and puts it back.

Read-only units of work run every statement in autocommit at READ COMMITTED, where
each statement takes its own snapshot: which connection runs it does not change
what it sees. The pool is an accelerator, never a bottleneck: when all its
connections are busy, or a statement fails on one, the unit of work runs the
statement through SQLAlchemy instead, with SQLAlchemy's pool limits, errors and
invalidation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

log = logging.getLogger(__name__)
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._size = size
        self._recycle = recycle_seconds
        self._clock = clock
        self._idle: list[Held] = []
        self._open = 0  # idle and held
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    async def acquire(self) -> Held | None:
        """An idle connection, a new one while below the size, or None. A server
        that cannot be reached raises (OSError, TimeoutError): SQLAlchemy would wait
        for it just as long again, past the time a request is answered in."""
        while self._idle:
            held = self._idle.pop()
            if not self._stale(held):
                return held
            self._discard(held)
        if self._closed or self._open >= self._size:
            return None
        self._open += 1
        try:
            connection = await self._connect()
        except (OSError, TimeoutError):
            self._open -= 1
            raise
        except Exception:
            # The server answered and refused (starting up, too many connections):
            # SQLAlchemy's pool may still have a connection to run the statement on.
            self._open -= 1
            log.warning("driver connection refused", exc_info=True)
            return None
        except BaseException:
            self._open -= 1
            raise
        return Held(connection, self._clock())

    def release(self, held: Held, *, failure: BaseException | None = None) -> None:
        """Back to the idle list, unless the statement failed in a way that may have
        left the connection unusable. A connection the server dropped makes every
        idle one suspect (a restart drops them all), as SQLAlchemy's pool does."""
        usable = failure is None or isinstance(failure, asyncpg.PostgresError)
        if usable and not self._closed and not held.connection.is_closed():
            self._idle.append(held)
            return
        lost = bool(held.connection.is_closed())
        self._discard(held)
        if lost:
            for idle in self._idle:
                self._discard(idle)
            self._idle.clear()

    async def close(self) -> None:
        self._closed = True
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
