"""Housekeeping: a background task in each worker that forgets rate-limit counters
whose windows have ended, so that keys seen once (a mistyped email, a passing
address) do not pile up."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ports import Clock
from domain.rate_limits import RateLimits, prune_counters
from persistence.background import cancel_and_wait
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("trackql.housekeeping")
INTERVAL_SECONDS = 600.0


class Housekeeping:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        limits: RateLimits,
        interval_seconds: float = INTERVAL_SECONDS,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._limits = limits
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trackql-housekeeping")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def run_once(self) -> int:
        """Prune now, in a transaction of its own; the number of counters gone."""
        uow = SqlUnitOfWork(self._sessions, writes=True)
        try:
            pruned = await prune_counters(
                uow=uow, clock=self._clock, limits=self._limits
            )
            await uow.commit()
            return pruned
        finally:
            await uow.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.run_once()
            except Exception:
                # This task's boundary: an outage must not end housekeeping for the
                # life of the process; the next round tries again.
                log.exception("housekeeping round failed")
