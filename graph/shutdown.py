"""Say goodbye to WebSocket clients as soon as SIGTERM arrives.

uvicorn, on SIGTERM, closes every WebSocket with 1012 at its next tick (0.1 s later)
before it runs the lifespan's end, so the lifespan's own close (1001, "server
shutting down") would come too late. Wrapping the server's SIGTERM handler sends the
goodbyes first and hands the signal on once they are done, or after a short grace
when a client is slow to answer; the server then shuts down as before, and restores
its handlers when it is done.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

Closer = Callable[[], Coroutine[Any, Any, None]]

# Long enough for a busy loop to write every close frame; short enough that a
# client which never acknowledges its close barely delays a deploy.
GOODBYE_GRACE_SECONDS = 1.0


@contextmanager
def close_first_on_sigterm(
    close: Closer, grace_seconds: float = GOODBYE_GRACE_SECONDS
) -> Iterator[None]:
    """Within the block, SIGTERM runs `close` before the server's own handler; a
    no-op outside the main thread or when nothing handles SIGTERM (tests)."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        yield
        return
    loop = asyncio.get_running_loop()
    # Held here, since the loop keeps only weak references to its tasks.
    started: list[asyncio.Task[None]] = []

    async def close_then_hand_on(signum: int, frame: FrameType | None) -> None:
        goodbye = loop.create_task(close())
        started.append(goodbye)
        # Not wait_for: a goodbye still waiting for its answer goes on after the
        # grace, while the server shuts down.
        await asyncio.wait([goodbye], timeout=grace_seconds)
        previous(signum, frame)

    def start_closing(signum: int, frame: FrameType | None) -> None:
        if started:  # a second SIGTERM: the server's own handler decides
            previous(signum, frame)
            return
        started.append(loop.create_task(close_then_hand_on(signum, frame)))

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(start_closing, signum, frame)

    try:
        signal.signal(signal.SIGTERM, handle)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is handle:
            signal.signal(signal.SIGTERM, previous)
