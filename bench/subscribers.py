"""S1: one task update fanned out to many graphql-transport-ws subscribers.

Every subscriber is its own WebSocket (spread over the server's workers by the
kernel, so with several workers the events cross processes through PostgreSQL's
LISTEN/NOTIFY). Each update's delivery latency is measured per subscriber from the
moment the `updateTask` response arrives to the moment its event does: a negative
value means the event beat the HTTP response.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIBE = """subscription S1($p: ID!) {
  taskEvents(projectId: $p) { kind task { id title } }
}"""
UPDATE = """mutation S1Update($id: ID!, $input: UpdateTaskInput!) {
  updateTask(id: $id, input: $input) { id }
}"""
WAIT_SECONDS = 10.0
OPEN_AT_ONCE = 10
TITLE = "S1 update {}"


@dataclass(frozen=True, slots=True)
class Fanout:
    """The deliveries of `updates` events to `subscribers` sockets."""

    subscribers: int
    updates: int
    latencies_ms: list[float]
    missing: int
    error: str = ""

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float | None:
        return percentile(self.latencies_ms, 99)


def percentile(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Subscriber:
    socket: ClientConnection
    received: dict[str, float] = field(default_factory=dict)  # title -> time
    error: str = ""

    async def listen(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message.get("type") == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    self.error = _first_error(payload["errors"])
                    return
                title = payload["data"]["taskEvents"]["task"]["title"]
                self.received.setdefault(title, time.perf_counter())
            elif message.get("type") == "error":
                self.error = _first_error(message.get("payload") or [])
                return
            elif message.get("type") == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))


def _first_error(errors: Sequence[dict[str, Any]]) -> str:
    if not errors:
        return "subscription refused"
    first = errors[0]
    code = (first.get("extensions") or {}).get("code", "ERROR")
    return f"{code}: {first.get('message', '')}"


async def open_subscriber(url: str, token: str, project_id: str) -> Subscriber:
    socket = await connect(url, subprotocols=[PROTOCOL], compression=None)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await socket.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(socket.recv(), WAIT_SECONDS))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    payload = {"query": SUBSCRIBE, "variables": {"p": project_id}}
    await socket.send(json.dumps({"id": "s1", "type": "subscribe", "payload": payload}))
    return Subscriber(socket)


async def _update(client: httpx.AsyncClient, task_id: str, title: str) -> float:
    variables = {"id": task_id, "input": {"title": title}}
    response = await client.post(
        "/graphql", json={"query": UPDATE, "variables": variables}
    )
    arrived = time.perf_counter()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(_first_error(body["errors"]))
    return arrived


async def _delivered(
    subscribers: Sequence[Subscriber], title: str, wait: float = WAIT_SECONDS
) -> bool:
    """Wait until every live subscriber has the event, or the wait runs out."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        live = [s for s in subscribers if not s.error]
        if not live or all(title in s.received for s in live):
            return True
        await asyncio.sleep(0.005)  # polling the listeners' state, not pacing load
    return False


async def fan_out(
    base_url: str,
    token: str,
    project_id: str,
    task_id: str,
    *,
    subscribers: int = 100,
    updates: int = 20,
) -> Fanout:
    ws_url = base_url.replace("http://", "ws://", 1) + "/graphql"
    opened: list[Subscriber] = []
    # In small groups: a hundred simultaneous handshakes measure the accept queue.
    for start in range(0, subscribers, OPEN_AT_ONCE):
        group = min(OPEN_AT_ONCE, subscribers - start)
        opened += await asyncio.gather(
            *(open_subscriber(ws_url, token, project_id) for _ in range(group))
        )
    listeners = [asyncio.create_task(s.listen()) for s in opened]
    headers = {"authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=30
        ) as c:
            # Warm-up: an event every subscriber has seen proves all are listening
            # (a subscribe message has no acknowledgement to wait for).
            for attempt in range(5):
                warm = TITLE.format(f"warm-up {attempt}")
                await _update(c, task_id, warm)
                if await _delivered(opened, warm, wait=2.0):
                    break
            refused = next((s.error for s in opened if s.error), "")
            if refused:
                return Fanout(subscribers, 0, [], 0, refused)
            latencies: list[float] = []
            for number in range(updates):
                title = TITLE.format(number)
                sent = await _update(c, task_id, title)
                await _delivered(opened, title)
                latencies += [
                    (s.received[title] - sent) * 1000
                    for s in opened
                    if title in s.received
                ]
    finally:
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(
            *(s.socket.close() for s in opened), return_exceptions=True
        )
    missing = subscribers * updates - len(latencies)
    return Fanout(subscribers, updates, sorted(latencies), missing)
