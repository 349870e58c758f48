"""Say goodbye to WebSocket clients as soon as SIGTERM arrives.

uvicorn, on SIGTERM, closes every WebSocket with 1012 before it runs the lifespan's
end, so the lifespan's own close (1001, "server shutting down") would come too late.
Wrapping the server's SIGTERM handler closes them first; the server then shuts down
as before, and restores its handlers when it is done.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

Closer = Callable[[], Coroutine[Any, Any, None]]


@contextmanager
def close_first_on_sigterm(close: Closer) -> Iterator[None]:
    """Within the block, SIGTERM runs `close` before the server's own handler; a
    no-op outside the main thread or when nothing handles SIGTERM (tests)."""
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        yield
        return
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    def start_closing() -> None:
        task = loop.create_task(close())
        pending.add(task)
        task.add_done_callback(pending.discard)

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(start_closing)
        previous(signum, frame)

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
