"""A real server and client for GraphQL over WebSocket tests: uvicorn on a free
loopback port, and the `websockets` client speaking graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

WAIT = 5.0
PROTOCOL = Subprotocol("graphql-transport-ws")


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` (its lifespan run by the caller) and give its WebSocket URL."""
    async with serving(app) as (url, _server):
        yield url


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """`serve`, with the server: its state tells which requests are in flight."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # Listening before uvicorn starts: clients may connect at once, no waiting.
    sock.listen()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"ws://127.0.0.1:{port}/graphql", server
    finally:
        server.should_exit = True
        await task
        sock.close()


async def open_socket(
    url: str, params: dict[str, Any] | None, compression: bool = True
) -> ClientConnection:
    """Connect and send connection_init with `params` (None: no payload at all)."""
    deflate = "deflate" if compression else None
    client = await connect(url, subprotocols=[PROTOCOL], compression=deflate)
    message: dict[str, Any] = {"type": "connection_init"}
    if params is not None:
        message["payload"] = params
    await client.send(json.dumps(message))
    return client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def receive(client: ClientConnection) -> dict[str, Any] | int:
    """The next message, or the close code if the server closed the socket."""
    try:
        raw = await asyncio.wait_for(client.recv(), WAIT)
    except ConnectionClosed:
        assert client.close_code is not None
        return client.close_code
    message: dict[str, Any] = json.loads(raw)
    return message


async def closed(client: ClientConnection) -> tuple[int | None, str | None]:
    """Read until the server closes; the close code and reason."""
    while isinstance(await receive(client), dict):
        pass
    return client.close_code, client.close_reason


async def subscribe(
    client: ClientConnection,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_id: str = "1",
) -> None:
    payload = {"query": query, "variables": variables or {}}
    message = {"id": operation_id, "type": "subscribe", "payload": payload}
    await client.send(json.dumps(message))


async def until(predicate: Any) -> None:
    """Wait for the server to have done something (not for time to pass)."""
    async with asyncio.timeout(WAIT):
        while not predicate():  # noqa: ASYNC110 (server state, no event to await)
            await asyncio.sleep(0.01)
