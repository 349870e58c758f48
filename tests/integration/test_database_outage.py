"""A database that goes away and comes back: trackql answers 503 meanwhile and
recovers without a restart. Uses a throwaway PostgreSQL cluster on a free port,
never the machine's own server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.migrate import upgrade
from tests.conftest import POSTGRES_URL, SECRET

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None or shutil.which("pg_ctl") is None,
    reason="runs with the PostgreSQL suite, where initdb and pg_ctl are installed",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(
            as_postgres(*command), check=True, capture_output=True, timeout=60
        )

    def init(self) -> None:
        self._run("initdb", "-A", "trust", "-U", "postgres", "-D", str(self.directory))

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        log = str(self.directory / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.directory), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory), "-m", "immediate", "-w", "stop")


def as_postgres(*command: str) -> list[str]:
    # PostgreSQL refuses to run as root, and CI machines run the suite as root.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return [*prefix, *command]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Not pytest's tmp_path: its parents are private to root, out of the server's reach.
    directory = Path(tempfile.mkdtemp(prefix="trackql-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    cluster = Cluster(directory, free_port())
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            as_postgres("pg_ctl", "-D", str(directory), "-m", "immediate", "stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


REGISTER = """mutation { register(input: {email: "ann@example.com",
  password: "long enough password", name: "Ann"}) { accessToken } }"""
CREATE_PROJECT = 'mutation { createProject(input: {name: "Back"}) { name } }'
ME = "{ me { name } }"


async def test_an_outage_is_503_and_service_unavailable_then_recovers_by_itself(
    cluster: Cluster,
) -> None:
    settings = Settings(secret_key=SECRET, database_url=cluster.url, env="test")
    runtime = Runtime.build(settings)
    await upgrade(runtime.engine)
    transport = httpx.ASGITransport(app=create_app(settings, runtime))

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        registered = await client.post("/graphql", json={"query": REGISTER})
        token = registered.json()["data"]["register"]["accessToken"]
        auth = {"authorization": f"Bearer {token}"}
        # A read before: the driver reads' connections are open when it stops.
        before = await client.post("/graphql", json={"query": ME}, headers=auth)
        cluster.stop()
        started = time.monotonic()
        during = await client.post(
            "/graphql", json={"query": CREATE_PROJECT}, headers=auth
        )
        answered_in = time.monotonic() - started
        started = time.monotonic()
        read_during = await client.post("/graphql", json={"query": ME}, headers=auth)
        read_answered_in = time.monotonic() - started
        ready = await client.get("/health/ready")
        health = await client.get("/health")
        live = await client.get("/health/live")
        cluster.start()
        after = await client.post(
            "/graphql", json={"query": CREATE_PROJECT}, headers=auth
        )
        read_after = await client.post("/graphql", json={"query": ME}, headers=auth)
        ready_after = await client.get("/health/ready")
    await runtime.close()

    error = during.json()["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert answered_in < 5
    assert before.json() == {"data": {"me": {"name": "Ann"}}}
    read_error = read_during.json()["errors"][0]
    assert read_error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert read_answered_in < 5
    assert read_after.json() == {"data": {"me": {"name": "Ann"}}}
    assert str(cluster.port) not in during.text
    assert "Traceback" not in during.text
    assert (ready.status_code, health.status_code, live.status_code) == (503, 503, 200)
    assert ready.json()["status"] == "unavailable"
    assert after.json() == {"data": {"createProject": {"name": "Back"}}}
    assert ready_after.json() == {"status": "ok", "database": "ok"}
