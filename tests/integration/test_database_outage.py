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

from domain.models import utcnow
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.engine import PoolOptions
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


async def test_health_follows_the_database_down_and_back_up(cluster: Cluster) -> None:
    pool = PoolOptions(timeout_seconds=2, connect_timeout_seconds=2)
    settings = Settings(
        secret_key=SECRET, database_url=cluster.url, env="test", pool=pool
    )
    runtime = Runtime.build(settings)
    app = create_app(settings, runtime)
    token = runtime.signer.issue(1, "session", utcnow())
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        before = await client.get("/health")
        cluster.stop()
        during = await client.get("/health")
        started = time.monotonic()
        graphql = await client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"authorization": f"Bearer {token}"},
        )
        answered_in = time.monotonic() - started
        cluster.start()
        after = await client.get("/health")
    await runtime.close()

    assert before.status_code == 200
    assert during.status_code == 503
    assert during.json()["status"] == "unavailable"
    assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert answered_in < 5
    assert after.status_code == 200
    assert after.json() == {"status": "ok", "database": "ok"}
