"""PostGraphile on the same data and machine, driven as bench.run drives trackql: the
reference of issue 6's targets, measured in the same run instead of quoted.

    python -m bench.postgraphile                        # PostGraphile 4: 1, 2 processes
    python -m bench.postgraphile --workers 1 --duration 10

It needs Node.js and npm (postgraphile@4 is installed into ~/.cache/trackql-bench
on first use), wrk, and the PostgreSQL server that bench.run uses. Run
`python -m bench.run --operations Q1,Q2,Q3 --backends postgresql` right before or
after it: rates on a shared VM move between runs, so compare within one sitting.

PostGraphile serves the seeded database as it is, anonymously: no JWT and no
row-level security, so it checks no session and no membership, which trackql does
on every request. Its requests: Q1 `userById`; Q2 `allProjects(first: 20)` with
`userByOwnerId` and `tasksByProjectId(first: 10)` with `userByAssigneeId`; Q3
`allTasks(first: 50, condition: {projectId, isCompleted: false})` with
`totalCount`, which also counts overdue tasks (a condition is an equality).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench import load, server
from bench.operations import Body, Targets
from bench.run import DEFAULT_ADMIN_URL, find_targets

PACKAGE = "postgraphile@4"
CACHE = Path.home() / ".cache" / "trackql-bench" / "postgraphile4"


def requests(targets: Targets) -> dict[str, Body]:
    user, project = _number(targets.user_id), _number(targets.project_id)
    tasks = "id title priority isCompleted userByAssigneeId { name }"
    return {
        "Q1": {"query": f"{{ userById(id: {user}) {{ id name email }} }}"},
        "Q2": {
            "query": "{ allProjects(first: 20) { nodes { id name "
            "userByOwnerId { name email } "
            f"tasksByProjectId(first: 10) {{ nodes {{ {tasks} }} }} }} }} }}"
        },
        "Q3": {
            "query": "{ allTasks(first: 50, condition: "
            f"{{projectId: {project}, isCompleted: false}}) "
            "{ totalCount nodes { id title priority } } }"
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.postgraphile", description=__doc__)
    parser.add_argument("--workers", default="1,2", help="PostGraphile processes")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("TRACKQL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
    )
    args = parser.parse_args(argv)
    if load.wrk_path() is None:
        print(f"bench.postgraphile: {load.INSTALL_HINT}", file=sys.stderr)
        return 2
    command = _installed()
    print(f"PostGraphile {_version()}, {args.concurrency} connections")
    print("| op | processes | req/s | p50 ms | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    with server.postgres_database(args.admin_url) as url:
        bench_user = server.migrate_and_seed(server.server_env(url), 1.0)
        bodies = requests(asyncio.run(find_targets(url, bench_user)))
        plain = make_url(url).set(drivername="postgresql")
        for workers in (int(w) for w in args.workers.split(",")):
            with _serving(
                command, plain.render_as_string(hide_password=False), workers
            ) as base:
                for key, body in bodies.items():
                    drive = {"connections": args.concurrency}
                    load.drive(base, body, None, seconds=args.warmup, **drive)
                    run = load.drive(base, body, None, seconds=args.duration, **drive)
                    print(
                        f"| {key} | {workers} | {run.per_second:,.0f} | "
                        f"{run.p50_ms:.1f} | {run.p99_ms:.1f} | {run.errors} |",
                        flush=True,
                    )
    return 0


def _installed() -> Path:
    command = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not command.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(CACHE), PACKAGE],
            check=True,
        )
    return command


def _version() -> str:
    manifest = CACHE / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


@contextmanager
def _serving(command: Path, database_url: str, workers: int) -> Iterator[str]:
    port = server.free_port()
    cluster = ["--cluster-workers", str(workers)] if workers > 1 else []
    arguments = [
        *("-c", database_url, "--schema", "public", "--disable-query-log"),
        *("--host", "127.0.0.1", "--port", str(port), *cluster),
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="trackql-postgraphile-") as folder:
        log = Path(folder) / "postgraphile.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(command), *arguments],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            server.wait_until_ready(
                process, lambda: _answers(base), log, "PostGraphile"
            )
            yield base
        finally:
            server.stop(process)


def _answers(base: str) -> bool:
    query = {"query": "{ __typename }"}
    return httpx.post(f"{base}/graphql", json=query, timeout=1).status_code == 200


def _number(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


if __name__ == "__main__":
    raise SystemExit(main())
