"""Memory of idle, authenticated GraphQL WebSockets held by one worker.

    python -m tests.performance.idle_sockets [--sockets 1000] [--postgres SERVER_URL]
        [--no-compression] [--no-subscribe]

Starts one uvicorn worker (`graph.app:app_from_env`) on SQLite in a temporary
directory, or on a temporary database created on the given PostgreSQL server and
dropped afterwards, opens the given number of graphql-transport-ws
connections for one user, each acknowledged and subscribed to `taskEvents` of one
project (unless --no-subscribe), and reports the worker's resident memory (VmRSS)
before and after. One task created once all are subscribed must reach every
socket, so the subscriptions counted are live. The cap per user is raised for the
run. Clients negotiate permessage-deflate as browsers do, unless --no-compression.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection

from domain.models import AuthSession, Project, ProjectMember, ProjectRole, User, utcnow
from domain.security import TokenSigner, hash_password
from graph.relay import to_global_id
from persistence.engine import create_engine, create_session_factory
from persistence.migrate import upgrade
from tests.websocket import bearer, open_socket, receive, subscribe

SECRET = "idle-sockets-benchmark-secret-key-0123456789"


SUBSCRIPTION = "subscription ($p: ID!) { taskEvents(projectId: $p) { kind } }"
CREATE_TASK = """mutation ($p: ID!) {
  createTask(input: {projectId: $p, title: "Wake up"}) { id } }"""


async def arrange(database_url: str) -> tuple[str, str]:
    """A user with a live session who owns a project: a token and the project's
    global ID."""
    engine = create_engine(database_url)
    await upgrade(engine)
    async with create_session_factory(engine)() as session:
        user = User(
            email=f"{uuid.uuid4().hex}@example.com",
            name="Idle",
            password_hash=hash_password("unused password"),
        )
        session.add(user)
        await session.flush()
        auth_session = AuthSession(id=uuid.uuid4().hex, user_id=user.id)
        project = Project(name="Idle board", owner_id=user.id)
        session.add_all([auth_session, project])
        await session.flush()
        owner = ProjectRole.OWNER
        session.add(ProjectMember(project_id=project.id, user_id=user.id, role=owner))
        await session.commit()
        user_id, session_id, project_id = user.id, auth_session.id, project.id
    await engine.dispose()
    signer = TokenSigner(SECRET, timedelta(hours=1))
    token = signer.issue(user_id, session_id, utcnow())
    return token, to_global_id("Project", project_id)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_worker(database_url: str, port: int, sockets: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRACKQL_DATABASE_URL": database_url,
        "TRACKQL_SECRET_KEY": SECRET,
        "TRACKQL_ENV": "test",
        "TRACKQL_MAX_SUBSCRIPTIONS_PER_USER": str(sockets + 1),
    }
    command = [sys.executable, "-m", "uvicorn", "graph.app:app_from_env", "--factory"]
    options = ["--port", str(port), "--log-level", "warning"]
    return subprocess.Popen([*command, *options], env=env)


async def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.get(f"http://127.0.0.1:{port}/health/live")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError("the worker did not start")


async def measure(
    database_url: str, count: int, compression: bool, subscribed: bool
) -> None:
    token, project = await arrange(database_url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    worker = start_worker(database_url, port, count)
    try:
        await wait_ready(port)
        url = f"ws://127.0.0.1:{port}/graphql"
        clients = [await open_socket(url, bearer(token), compression)]
        assert await receive(clients[0]) == {"type": "connection_ack"}
        before = rss_mib(worker.pid)
        for _ in range(count):
            client = await open_socket(url, bearer(token), compression)
            assert await receive(client) == {"type": "connection_ack"}
            if subscribed:
                await subscribe(client, SUBSCRIPTION, {"p": project})
            clients.append(client)
        if subscribed:
            await wake_every_subscriber(port, token, project, clients[1:])
        await asyncio.sleep(1)  # let the worker settle before reading its memory
        after = rss_mib(worker.pid)
        what = "subscribed" if subscribed else "idle"
        print(
            f"{count} {what} sockets: worker RSS {before:.1f} -> {after:.1f} MiB, "
            f"{(after - before) * 1024 / count:.1f} KiB per socket"
        )
        await asyncio.gather(*(c.close() for c in clients))
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def wake_every_subscriber(
    port: int, token: str, project: str, clients: list[ClientConnection]
) -> None:
    """One task created: every subscription must deliver it, or it was not live.
    The subscribe messages were sent before; retry until all are listening."""
    headers = {"authorization": f"Bearer {token}"}
    pending = list(clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(50):
            body = {"query": CREATE_TASK, "variables": {"p": project}}
            response = await http.post("/graphql", json=body, headers=headers)
            assert "errors" not in response.json(), response.text
            pending = [c for c in pending if not await delivered(c)]
            if not pending:
                return
    raise RuntimeError(f"{len(pending)} subscriptions never delivered an event")


async def delivered(client: ClientConnection) -> bool:
    try:
        message = await asyncio.wait_for(client.recv(), 0.5)
    except TimeoutError:
        return False
    return '"taskEvents"' in str(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--postgres", metavar="SERVER_URL")
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--no-subscribe", action="store_true")
    args = parser.parse_args()
    options = (args.sockets, not args.no_compression, not args.no_subscribe)
    if args.postgres:
        asyncio.run(on_postgres(args.postgres, *options))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/idle.db"
        asyncio.run(measure(url, *options))


async def on_postgres(
    server_url: str, count: int, compression: bool, subscribed: bool
) -> None:
    name = f"trackql_idle_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server_url).set(database=name)
        dsn = url.render_as_string(hide_password=False)
        await measure(dsn, count, compression, subscribed)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    main()
