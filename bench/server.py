"""A throw-away database, seeded through the CLI, and `trackql serve` as users run
it."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.engine import normalize_url

READY_TIMEOUT_SECONDS = 60.0
BENCH_USER_LINE = re.compile(r"^bench user: (\S+) (\S+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class BenchUser:
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    log: Path


def trackql_command() -> str:
    """The `trackql` script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("trackql")
    found = str(beside) if beside.exists() else shutil.which("trackql")
    if found is None:
        raise RuntimeError("the trackql command is not installed (pip install -e .)")
    return found


async def _admin(url: URL, statement: str) -> str:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement))
            return str(result.scalar()) if result.returns_rows else ""
    finally:
        await engine.dispose()


def postgres_version(admin_url: str) -> str:
    shown = asyncio.run(_admin(normalize_url(admin_url), "SHOW server_version"))
    return shown.split()[0]  # "15.4 (Debian 15.4-1)": the packager's suffix is noise


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database `trackql_bench_<random>` on the admin URL's server, dropped
    at the end."""
    admin = normalize_url(admin_url)
    name = f"trackql_bench_{secrets.token_hex(6)}"
    try:
        asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="trackql-bench-") as folder:
        yield f"sqlite:///{folder}/bench.db"


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a production deployment, on a throw-away secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKQL_")}
    env.update(
        TRACKQL_ENV="production",
        TRACKQL_DATABASE_URL=database_url,
        TRACKQL_SECRET_KEY=secrets.token_urlsafe(48),
        TRACKQL_RATE_LIMITS="off",
        TRACKQL_LOG_LEVEL="WARNING",
        # One login must outlast every run of a long benchmark.
        TRACKQL_ACCESS_TOKEN_MINUTES="240",
        # S1 opens its 100 sockets as the bench user; the default caps a user at 20.
        TRACKQL_MAX_SUBSCRIPTIONS_PER_USER="200",
    )
    return env


def migrate_and_seed(env: dict[str, str], scale: float) -> BenchUser:
    trackql = trackql_command()
    subprocess.run([trackql, "migrate"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [trackql, "seed-bench", "--scale", str(scale)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = BENCH_USER_LINE.search(seeded.stdout)
    if found is None:
        raise RuntimeError(f"seed-bench printed no bench user: {seeded.stdout!r}")
    return BenchUser(email=found[1], password=found[2])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], workers: int, log: Path) -> Iterator[Server]:
    port = free_port()
    command = [trackql_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", env, log)
    try:
        wait_until_ready(process, lambda: _is_ready(server.url), log, "server")
        yield server
    finally:
        stop(process)


def _is_ready(url: str) -> bool:
    return httpx.get(f"{url}/health/ready", timeout=1).status_code == 200


def wait_until_ready(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], log: Path, name: str
) -> None:
    """Until `ready()` says so (a refused connection counts as not yet); fails with
    the end of the log if the process exits or the time is up."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to the process group of a process started with
    start_new_session (its group id is its pid)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def worker_rss_mib(server: Server) -> tuple[float, int]:
    """The summed RSS of the processes that serve requests, and their number."""
    workers = worker_pids(server)
    return sum(_rss_kib(pid) for pid in workers) / 1024, len(workers)


def worker_pids(server: Server) -> list[int]:
    """The processes that serve requests: the server itself with one worker, its
    spawned children with several (uvicorn's supervisor and multiprocessing's
    resource tracker are left out)."""
    root = server.process.pid
    workers = [
        pid for pid in _children(root) if "spawn_main" in read_proc(pid, "cmdline")
    ]
    return workers or [root]


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on the machine: the server's backends and helpers."""
    return [pid for pid in _pids() if read_proc(pid, "comm").strip() == "postgres"]


def _children(parent: int) -> list[int]:
    return [
        pid
        for pid in _pids()
        if (stat := read_proc(pid, "stat")) and int(stat_fields(stat)[1]) == parent
    ]


def stat_fields(stat: str) -> list[str]:
    """The fields of a `/proc/<pid>/stat` line after the command name: state, ppid,
    ... (`man proc`, from the 3rd). The name, in parentheses, may hold spaces and
    parentheses itself: the fields start after the last closing one."""
    return stat.rsplit(")", 1)[1].split()


def _pids() -> Iterator[int]:
    return (
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    )


def read_proc(pid: int, name: str) -> str:
    """/proc/<pid>/<name>, or "" for a process that has exited."""
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def _rss_kib(pid: int) -> int:
    for line in read_proc(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
