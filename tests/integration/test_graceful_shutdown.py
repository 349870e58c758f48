"""SIGTERM to `trackql serve`: mutations in flight finish and persist, open sockets
are closed with 1001 (going away), and a client that never finishes its request cannot
hold the shutdown beyond TRACKQL_SHUTDOWN_TIMEOUT_SECONDS."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.server import Server, running_server, server_env
from tests.websocket import bearer, closed, open_socket, receive

pytestmark = pytest.mark.slow
TASKS = 300
IN_FLIGHT = 10
ALIASES = 15  # the default alias limit of one document
REGISTER = """mutation { register(input: {email: "ann@example.com",
  password: "long enough password", name: "Ann"}) { accessToken } }"""
CREATE_PROJECT = 'mutation { createProject(input: {name: "Deploy"}) { id } }'
CREATE_TASK = """mutation ($p: ID!, $t: String!) {
  createTask(input: {projectId: $p, title: $t}) { id title } }"""
BULK = """mutation ($ids: [ID!]!, $priority: Int!) {
  bulkUpdateTasks(input: {taskIds: $ids, patch: {priority: $priority}}) {
    updatedCount } }"""
TITLES = '{ tasks(first: 100, filter: {search: "in flight"}) { nodes { title } } }'
COUNT = "{ tasks { totalCount } }"


@contextmanager
def database_folder() -> Iterator[tuple[dict[str, str], Path]]:
    with tempfile.TemporaryDirectory(prefix="trackql-shutdown-") as folder:
        env = server_env(f"sqlite:///{folder}/trackql.db")
        env.update(TRACKQL_ENV="test", TRACKQL_SHUTDOWN_TIMEOUT_SECONDS="3")
        yield env, Path(folder)


@asynccontextmanager
async def client_of(server: Server, token: str = "") -> AsyncIterator[Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        base_url=server.url, headers=headers, timeout=30
    ) as http:

        async def graphql(query: str, variables: dict[str, Any] | None = None) -> Any:
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}
            )
            return response.status_code, response.json()

        yield graphql


async def arrange(server: Server) -> tuple[str, str, list[str]]:
    async with client_of(server) as anonymous:
        _, registered = await anonymous(REGISTER)
    token = registered["data"]["register"]["accessToken"]
    async with client_of(server, token) as graphql:
        _, created = await graphql(CREATE_PROJECT)
        project = created["data"]["createProject"]["id"]
        ids: list[str] = []
        for start in range(0, TASKS, ALIASES):
            aliases = " ".join(
                f't{n}: createTask(input: {{projectId: "{project}", title: "T{n}"}})'
                " { id }"
                for n in range(start, min(start + ALIASES, TASKS))
            )
            _, batch = await graphql(f"mutation {{ {aliases} }}")
            ids.extend(task["id"] for task in batch["data"].values())
    return token, project, ids


async def test_sigterm_lets_mutations_in_flight_finish_and_closes_sockets() -> None:
    with database_folder() as (env, folder):
        with running_server(env, 1, folder / "first.log") as server:
            token, project, ids = await arrange(server)
            socket_url = server.url.replace("http", "ws") + "/graphql"
            subscriber = await open_socket(socket_url, bearer(token))
            assert await receive(subscriber) == {"type": "connection_ack"}
            async with client_of(server, token) as graphql:
                pending = [
                    asyncio.create_task(
                        graphql(BULK, {"ids": ids, "priority": 1 + n % 5})
                    )
                    for n in range(IN_FLIGHT)
                ] + [
                    asyncio.create_task(
                        graphql(CREATE_TASK, {"p": project, "t": f"in flight {n}"})
                    )
                    for n in range(IN_FLIGHT)
                ]
                # The server is busy with the batch once it has answered one of it.
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                server.process.send_signal(signal.SIGTERM)
                answered_before = sum(task.done() for task in pending)
                answers = await asyncio.gather(*pending)
            socket_closed = await closed(subscriber)
            exit_code = server.process.wait(timeout=30)

        with running_server(env, 1, folder / "second.log") as restarted:
            async with client_of(restarted, token) as graphql:
                _, titles = await graphql(TITLES)
                _, count = await graphql(COUNT)

    assert answered_before < len(pending), "SIGTERM came after every answer"
    assert all(status == 200 and "errors" not in body for status, body in answers)
    assert [
        a[1]["data"]["bulkUpdateTasks"]["updatedCount"] for a in answers[:IN_FLIGHT]
    ] == [TASKS] * IN_FLIGHT
    assert sorted(t["title"] for t in titles["data"]["tasks"]["nodes"]) == sorted(
        f"in flight {n}" for n in range(IN_FLIGHT)
    )
    assert count["data"]["tasks"]["totalCount"] == TASKS + IN_FLIGHT
    assert socket_closed == (1001, "server shutting down")
    assert exit_code == -signal.SIGTERM  # uvicorn re-raises the signal it handled


def test_a_request_that_never_finishes_cannot_hold_the_shutdown() -> None:
    with (
        database_folder() as (env, folder),
        running_server(env, 1, folder / "server.log") as server,
    ):
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as trickle:
            trickle.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            # The server says 100 Continue once the app awaits the body: the
            # request is then in flight, and gets one byte of its 1000.
            assert trickle.recv(100).startswith(b"HTTP/1.1 100 Continue")
            trickle.sendall(b"{")
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pytest.fail("the server waited for the trickling client")
            took = time.monotonic() - started

    assert took < 3 + 5
