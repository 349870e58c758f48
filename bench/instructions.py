"""Instructions per request, counted by callgrind: a comparison that holds still.

Rates on a shared two-core machine move by about 15 % from one run to the next.
callgrind counts the instructions a process executes, which are the same from run
to run for the same code and data, whatever else the machine is doing. Here the
server runs in-process (the ASGI application called directly: no sockets, no
wrk, production settings, PostgreSQL), logs in as the bench user, warms up, and
sends N requests; the count is the difference between a run with N requests and
a run with none, divided by N. Database time is not in it (PostgreSQL is another
process), nor uvicorn's HTTP parsing.

    python -m bench.instructions                      # Q1, Q2, Q3; needs valgrind
    python -m bench.instructions --operations Q2 --requests 20

Run it from two checkouts (PYTHONPATH=<checkout>) to compare two versions: the
difference of a few tenths of a percent is noise, anything above one percent is
not. It takes about a minute per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import uvloop

from bench import operations, server
from bench.run import add_admin_url, find_targets

COLLECTED = re.compile(r"Collected : (\d+)")
DEFAULT_REQUESTS = {"Q2": 40}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.instructions", description=__doc__)
    parser.add_argument("--operations", default="Q1,Q2,Q3")
    parser.add_argument("--requests", type=int, help="per operation (Q2 40, else 200)")
    parser.add_argument("--warmup", type=int, default=20)
    add_admin_url(parser)
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # the measured child
    args = parser.parse_args(argv)
    if args.drive:
        return _drive(args.drive, args.requests or 0, args.warmup)
    if shutil.which("valgrind") is None:
        print("bench.instructions: apt-get install -y valgrind", file=sys.stderr)
        return 2
    ops = operations.select(args.operations)
    with server.postgres_database(args.admin_url) as url:
        env = server.server_env(url)
        bench_user = server.migrate_and_seed(env, 1.0)
        targets = asyncio.run(find_targets(url, bench_user))
        print("| op | instructions / request | requests |")
        print("| --- | --- | --- |")
        for op in ops:
            requests = args.requests or DEFAULT_REQUESTS.get(op.key, 200)
            env_op = {
                **env,
                "PYTHONHASHSEED": "0",
                "TRACKQL_BENCH_BODY": json.dumps(op.body(targets)),
                "TRACKQL_BENCH_LOGIN": json.dumps(operations.login_body(targets)),
            }
            measured = _count(env_op, op.key, requests, args.warmup)
            baseline = _count(env_op, op.key, 0, args.warmup)
            per_request = (measured - baseline) / requests
            print(f"| {op.key} | {per_request / 1e6:.2f} M | {requests} |")
    return 0


def _count(env: dict[str, str], key: str, requests: int, warmup: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--drive",
        key,
        "--requests",
        str(requests),
        "--warmup",
        str(warmup),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{key}: the measured run failed:\n{done.stderr[-2000:]}")
    return int(found[1])


def _drive(key: str, requests: int, warmup: int) -> int:
    from graph.app import app_from_env  # after the environment is set

    app = app_from_env()
    body = os.environ["TRACKQL_BENCH_BODY"].encode()
    login = os.environ["TRACKQL_BENCH_LOGIN"].encode()

    async def run() -> None:
        state: dict[str, Any] = {}
        async with _Lifespan(app, state):
            answer = await _post(app, state, login, "")
            token = json.loads(answer)["data"]["login"]["accessToken"]
            first = await _post(app, state, body, token)
            if b'"errors"' in first:
                raise RuntimeError(f"{key} failed: {first[:500]!r}")
            for _ in range(warmup + requests):
                await _post(app, state, body, token)

    uvloop.run(run())  # the event loop trackql serve runs on
    sys.stdout.flush()
    # Past the lifespan's shutdown: exit before interpreter teardown, which
    # differs from run to run and would blur the difference between the runs.
    os._exit(0)


class _Lifespan:
    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self._app, self._state = app, state
        self._inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self._state}
        self._task = asyncio.create_task(
            self._app(scope, self._inbox.get, self._outbox.put)
        )
        await self._inbox.put({"type": "lifespan.startup"})
        started = await self._outbox.get()
        if started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the application did not start: {started}")

    async def __aexit__(self, *exc: object) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        await self._task


async def _post(app: Any, state: dict[str, Any], body: bytes, token: str) -> bytes:
    headers = [
        (b"host", b"localhost"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": dict(state),
    }
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)


if __name__ == "__main__":
    raise SystemExit(main())
