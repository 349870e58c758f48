"""End-to-end latency of `taskEvents`: a mutation's commit to the subscriber's socket.

    python -m tests.performance.task_event_latency [--postgres URL] [--events 200]

Starts two uvicorn workers (`graph.app:app_from_env`) on a temporary database
created on the PostgreSQL server and dropped afterwards (default
TRACKQL_TEST_DATABASE_URL), or one worker on a temporary SQLite file when none is
given. A client subscribes on the first worker; `updateTask` is sent one at a time,
to the same worker and then to the other. For each event it reports the time from
sending the mutation to the event's arrival, beside the mutation's own round trip:
the event is published right after the commit, before the response is written, so
"event" minus the part of the round trip before the commit is the delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import tempfile
import time
import uuid

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection

from tests.performance.event_latency import summary
from tests.performance.idle_sockets import (
    CREATE_TASK,
    arrange,
    start_worker,
    wait_ready,
)
from tests.websocket import bearer, open_socket, receive, subscribe

UPDATE = """mutation ($id: ID!, $p: Int!) {
  updateTask(id: $id, input: {priority: $p}) { id } }"""
SUBSCRIPTION = "subscription ($p: ID!) { taskEvents(projectId: $p) { kind } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def next_event(client: ClientConnection) -> None:
    message = await receive(client)
    assert isinstance(message, dict), message
    assert message["type"] == "next", message


async def run(
    client: ClientConnection, http: httpx.AsyncClient, task_id: str, n: int
) -> tuple[list[float], list[float]]:
    events, round_trips = [], []
    for number in range(n):
        body = {"query": UPDATE, "variables": {"id": task_id, "p": number % 5 + 1}}
        started = time.perf_counter()
        arrival = asyncio.create_task(next_event(client))
        response = await http.post("/graphql", json=body)
        answered = time.perf_counter()
        await arrival
        events.append(time.perf_counter() - started)
        round_trips.append(answered - started)
        assert "errors" not in response.json(), response.text
    return events, round_trips


async def measure(database_url: str, workers: int, n: int) -> None:
    token, project = await arrange(database_url)
    ports = [free_port() for _ in range(workers)]
    processes = [start_worker(database_url, port, 1) for port in ports]
    try:
        for port in ports:
            await wait_ready(port)
        client = await open_socket(f"ws://127.0.0.1:{ports[0]}/graphql", bearer(token))
        assert await receive(client) == {"type": "connection_ack"}
        await subscribe(client, SUBSCRIPTION, {"p": project})
        headers = {"authorization": f"Bearer {token}"}
        for index, port in enumerate(ports):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, headers=headers) as http:
                task_id = await created_task(http, client, project)
                await run(client, http, task_id, 20)  # warm-up
                events, trips = await run(client, http, task_id, n)
            where = "same worker" if index == 0 else "other worker"
            print(summary(f"event, {where}", events))
            print(summary(f"round trip, {where}", trips))
        await client.close()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


async def created_task(
    http: httpx.AsyncClient, client: ClientConnection, project: str
) -> str:
    """A task of the project, created once the subscription delivers events."""
    for _ in range(50):
        body = {"query": CREATE_TASK, "variables": {"p": project}}
        answer = (await http.post("/graphql", json=body)).json()
        try:
            raw = await asyncio.wait_for(client.recv(), 0.5)
        except TimeoutError:
            continue
        assert json.loads(raw)["type"] == "next", raw
        task_id: str = answer["data"]["createTask"]["id"]
        return task_id
    raise RuntimeError("the subscription never delivered an event")


async def on_postgres(server_url: str, n: int) -> None:
    name = f"trackql_latency_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server_url).set(database=name)
        await measure(url.render_as_string(hide_password=False), 2, n)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("TRACKQL_TEST_DATABASE_URL")
    )
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(on_postgres(args.postgres, args.events))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/latency.db"
        asyncio.run(measure(url, 1, args.events))


if __name__ == "__main__":
    main()
