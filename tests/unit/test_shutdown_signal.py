"""SIGTERM closes the sockets first, then reaches the server's own handler."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType

import pytest

from graph.shutdown import close_first_on_sigterm


@dataclass
class ServerHandler:
    """A SIGTERM handler as uvicorn installs one; what happened, in order."""

    happened: list[str] = field(default_factory=list)
    called: asyncio.Event = field(default_factory=asyncio.Event)

    def handle_exit(self, signum: int, frame: FrameType | None) -> None:
        self.happened.append("server handler")
        self.called.set()


@pytest.fixture
def server() -> Iterator[ServerHandler]:
    handler = ServerHandler()
    original = signal.signal(signal.SIGTERM, handler.handle_exit)
    yield handler
    signal.signal(signal.SIGTERM, original)


async def test_sigterm_closes_first_and_then_reaches_the_server(
    server: ServerHandler,
) -> None:
    async def close() -> None:
        await asyncio.sleep(0)  # a goodbye takes a few turns of the loop
        server.happened.append("closed")

    with close_first_on_sigterm(close):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(server.called.wait(), 5)
    restored = signal.getsignal(signal.SIGTERM)

    assert server.happened == ["closed", "server handler"]
    assert restored == server.handle_exit


async def test_a_goodbye_nobody_answers_holds_the_server_only_for_the_grace(
    server: ServerHandler,
) -> None:
    answered, closed = asyncio.Event(), asyncio.Event()

    async def close() -> None:
        server.happened.append("closing")
        await answered.wait()
        server.happened.append("closed")
        closed.set()

    with close_first_on_sigterm(close, grace_seconds=0.05):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(server.called.wait(), 5)
        answered.set()
        await asyncio.wait_for(closed.wait(), 5)

    assert server.happened == ["closing", "server handler", "closed"]


async def test_a_second_sigterm_goes_straight_to_the_server(
    server: ServerHandler,
) -> None:
    closing, answered = asyncio.Event(), asyncio.Event()

    async def close() -> None:
        closing.set()
        await answered.wait()

    with close_first_on_sigterm(close, grace_seconds=60):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(closing.wait(), 5)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(server.called.wait(), 5)
        handled_while_closing = list(server.happened)
        server.called.clear()
        answered.set()
        await asyncio.wait_for(server.called.wait(), 5)

    assert handled_while_closing == ["server handler"]
    assert server.happened == ["server handler"] * 2


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
