"""Memory of idle, authenticated GraphQL WebSockets held by one worker.

    python -m tests.performance.idle_sockets [--sockets 1000] [--postgres SERVER_URL]

Starts one uvicorn worker (`graph.app:app_from_env`) on SQLite in a temporary
directory, or on a temporary database created on the given PostgreSQL server and
dropped afterwards, opens the given number of graphql-transport-ws
connections for one user, each acknowledged, and reports the worker's resident
memory (VmRSS) before and after. The cap per user is raised for the run. Clients
negotiate permessage-deflate as browsers do, unless --no-compression.
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

from domain.models import AuthSession, User, utcnow
from domain.security import TokenSigner, hash_password
from persistence.engine import create_engine, create_session_factory
from persistence.migrate import upgrade
from tests.websocket import bearer, open_socket, receive

SECRET = "idle-sockets-benchmark-secret-key-0123456789"


async def issue_token(database_url: str) -> str:
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
        session.add(auth_session)
        await session.commit()
        user_id, session_id = user.id, auth_session.id
    await engine.dispose()
    return TokenSigner(SECRET, timedelta(hours=1)).issue(user_id, session_id, utcnow())


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


async def measure(database_url: str, count: int, compression: bool) -> None:
    token = await issue_token(database_url)
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
            clients.append(client)
        await asyncio.sleep(1)  # let the worker settle before reading its memory
        after = rss_mib(worker.pid)
        print(
            f"{count} idle sockets: worker RSS {before:.1f} -> {after:.1f} MiB, "
            f"{(after - before) * 1024 / count:.1f} KiB per socket"
        )
        await asyncio.gather(*(c.close() for c in clients))
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--postgres", metavar="SERVER_URL")
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    compression = not args.no_compression
    if args.postgres:
        asyncio.run(on_postgres(args.postgres, args.sockets, compression))
        return
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{directory}/idle.db"
        asyncio.run(measure(url, args.sockets, compression))


async def on_postgres(server_url: str, count: int, compression: bool) -> None:
    name = f"trackql_idle_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server_url).set(database=name)
        await measure(url.render_as_string(hide_password=False), count, compression)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    main()
