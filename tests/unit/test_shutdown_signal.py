"""SIGTERM closes the sockets first, then reaches the server's own handler."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from graph.shutdown import close_first_on_sigterm


@pytest.fixture
def server_handler() -> Iterator[list[str]]:
    """A SIGTERM handler as uvicorn installs one; what happened, in order."""
    happened: list[str] = []

    def handle_exit(signum: int, frame: FrameType | None) -> None:
        happened.append("server handler")

    original = signal.signal(signal.SIGTERM, handle_exit)
    yield happened
    signal.signal(signal.SIGTERM, original)


async def test_sigterm_starts_closing_and_still_reaches_the_server(
    server_handler: list[str],
) -> None:
    closed = asyncio.Event()

    async def close() -> None:
        server_handler.append("closed")
        closed.set()

    with close_first_on_sigterm(close):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(closed.wait(), 5)
    restored = signal.getsignal(signal.SIGTERM)

    assert server_handler == ["server handler", "closed"]
    assert getattr(restored, "__name__", None) == "handle_exit"


async def test_without_a_server_handler_nothing_is_installed() -> None:
    original = signal.signal(signal.SIGTERM, signal.SIG_DFL)

    async def close() -> None:
        raise AssertionError("never called")

    try:
        with close_first_on_sigterm(close):
            installed = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, original)

    assert installed is signal.SIG_DFL
