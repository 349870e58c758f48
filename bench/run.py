"""The trackql benchmark: seed a fresh database, start `trackql serve` as users run
it, log in as the bench user and drive each operation with wrk.

    python -m bench.run                                  # the full run (nox -s bench)
    python -m bench.run --duration 3 --concurrency 16    # a smoke run

Prints a markdown table per set-up (PostgreSQL with each --workers, SQLite with one
worker) and writes it to bench/results/<date>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from websockets.exceptions import WebSocketException

from bench import load, operations, probe, report, server, subscribers
from bench.operations import Operation, Targets
from domain.models import ProjectMember, Task, User
from graph.relay import to_global_id
from persistence.engine import create_engine

RESULTS = Path(__file__).with_name("results")
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SETTLE_SECONDS = 10.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__)
    parser.add_argument("--duration", type=float, default=15, help="seconds per row")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each")
    parser.add_argument("--concurrency", type=_ints, default=[16, 64])
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="PostgreSQL")
    parser.add_argument("--backends", type=_names, default=["postgresql", "sqlite"])
    parser.add_argument("--operations", default="Q1,Q2,Q3,M1,M2,S1")
    parser.add_argument("--scale", type=float, default=1.0, help="seed-bench --scale")
    parser.add_argument("--subscribers", type=int, default=100, help="S1 sockets")
    parser.add_argument("--updates", type=int, default=20, help="S1 task updates")
    add_admin_url(parser)
    parser.add_argument("--output", type=Path, help="default: bench/results/<date>.md")
    return parser


def add_admin_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("TRACKQL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL),
        help="a PostgreSQL URL that may create databases",
    )


def _ints(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",") if part.strip()]


def _names(raw: str) -> list[str]:
    names = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if set(names) - {"postgresql", "sqlite"}:
        raise argparse.ArgumentTypeError("backends are postgresql and sqlite")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if load.wrk_missing("bench"):
        return 2
    ops = operations.select(args.operations)
    started = datetime.now(UTC)
    sections = []
    if "postgresql" in args.backends:
        version = server.postgres_version(args.admin_url)
        for workers in args.workers:
            with server.postgres_database(args.admin_url) as url:
                sections.append(
                    measure(f"PostgreSQL {version}", url, workers, args, ops)
                )
    if "sqlite" in args.backends:
        with server.sqlite_database() as url:
            backend = f"SQLite {sqlite3.sqlite_version}"
            sections.append(measure(backend, url, 1, args, ops))
    markdown = report.render(header(args, started, argv), sections)
    output = args.output or RESULTS / f"{started:%Y-%m-%d}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown)
    print(markdown)
    print(f"bench: written to {output}", file=sys.stderr)
    return 0


def measure(
    backend: str,
    url: str,
    workers: int,
    args: argparse.Namespace,
    ops: Sequence[Operation],
) -> report.Section:
    print(f"bench: {backend}, {workers} worker(s): seeding", file=sys.stderr)
    env = server.server_env(url)
    bench_user = server.migrate_and_seed(env, args.scale)
    targets = asyncio.run(find_targets(url, bench_user))
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        with server.running_server(env, workers, log) as running:
            token, login_error = log_in(running.url, targets)
            probes = probe.probe_all(env, probe_requests(ops, targets, token))
            rows = [
                row
                for op in ops
                for row in measure_operation(running, op, targets, token, probes, args)
            ]
            # Queued logins (argon2, 64 MiB each) outlive wrk's run: let them drain
            # before reading what the workers keep.
            time.sleep(SETTLE_SECONDS)
            settled, processes = server.worker_rss_mib(running)
    notes = [
        f"`trackql serve --workers {workers}`: TRACKQL_ENV=production, "
        "TRACKQL_RATE_LIMITS=off, log level WARNING, fresh seeded database",
        f"logged in as {targets.email}"
        if token
        else f"login failed ({login_error}): operations that need a token ran "
        "without one",
        f"RSS: summed over the {processes} worker process(es) after each row's run; "
        f"{settled / max(processes, 1):.0f} MiB per worker after the whole run, "
        f"{SETTLE_SECONDS:g} s idle",
    ]
    return report.Section(backend, workers, processes, rows, notes)


async def find_targets(url: str, bench_user: server.BenchUser) -> Targets:
    """A user in the middle of the list and the bench user's first project."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            users = (await conn.execute(select(func.count(User.id)))).scalar_one()
            middle = select(User.id).order_by(User.id).offset(users // 2).limit(1)
            user_id = (await conn.execute(middle)).scalar_one()
            project = (
                select(ProjectMember.project_id)
                .join(User, User.id == ProjectMember.user_id)
                .where(User.email == bench_user.email)
                .order_by(ProjectMember.project_id)
                .limit(1)
            )
            project_id = (await conn.execute(project)).scalar_one()
            task = select(func.min(Task.id)).where(Task.project_id == project_id)
            task_id = (await conn.execute(task)).scalar_one()
    finally:
        await engine.dispose()
    return Targets(
        email=bench_user.email,
        password=bench_user.password,
        user_id=to_global_id("User", user_id),
        project_id=to_global_id("Project", project_id),
        task_id=to_global_id("Task", task_id),
    )


def log_in(url: str, targets: Targets) -> tuple[str | None, str]:
    """The bench user's access token from the `login` mutation, or why not."""
    response = httpx.post(
        f"{url}/graphql", json=operations.login_body(targets), timeout=30
    )
    error = probe.error_of(response)
    if error:
        return None, error
    token = response.json()["data"]["login"]["accessToken"]
    return str(token), ""


def probe_requests(
    ops: Sequence[Operation], targets: Targets, token: str | None
) -> list[probe.Request]:
    return [
        probe.Request(op.key, op.body(targets), token if op.needs_token else None)
        for op in ops
        if not op.unavailable and op.build is not None
    ]


def measure_operation(
    running: server.Server,
    op: Operation,
    targets: Targets,
    token: str | None,
    probes: dict[str, probe.Probe],
    args: argparse.Namespace,
) -> list[report.Row]:
    if op.unavailable:
        return [report.Row(op.key, op.title, note=op.unavailable)]
    if op.key == "S1":
        return [fan_out_row(running, op, targets, token, args)]
    found = probes[op.key]
    rows = []
    for connections in args.concurrency:
        print(f"bench: {op.key} at {connections}", file=sys.stderr)
        rows.append(drive_row(running, op, targets, token, found, connections, args))
    return rows


def fan_out_row(
    running: server.Server,
    op: Operation,
    targets: Targets,
    token: str | None,
    args: argparse.Namespace,
) -> report.Row:
    if token is None:
        return report.Row(op.key, op.title, note="no token: login failed")
    count = args.subscribers
    print(f"bench: S1 with {count} subscribers", file=sys.stderr)
    try:
        found = asyncio.run(
            subscribers.fan_out(
                running.url,
                token,
                targets.project_id,
                targets.task_id,
                subscribers=count,
                updates=args.updates,
            )
        )
    except (OSError, RuntimeError, TimeoutError, WebSocketException) as exc:
        return report.Row(op.key, op.title, count, note=f"failed: {exc!r}")
    rss, _ = server.worker_rss_mib(running)
    if found.error:
        note = f"not available: {found.error}"
        return report.Row(op.key, op.title, count, rss_mib=rss, note=note)
    return report.Row(
        op.key,
        op.title,
        count,
        p50_ms=found.p50_ms,
        p99_ms=found.p99_ms,
        errors=found.missing,
        requests=count * found.updates,
        rss_mib=rss,
        note=f"{found.updates} updates; latency from each updateTask response to "
        "each delivery; conc. = subscribers",
    )


def drive_row(
    running: server.Server,
    op: Operation,
    targets: Targets,
    token: str | None,
    found: probe.Probe,
    connections: int,
    args: argparse.Namespace,
) -> report.Row:
    body, bearer = op.body(targets), token if op.needs_token else None
    try:
        if args.warmup > 0:
            load.drive(
                running.url, body, bearer, connections=connections, seconds=args.warmup
            )
        measured = load.drive(
            running.url, body, bearer, connections=connections, seconds=args.duration
        )
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        return report.Row(op.key, op.title, connections, note=f"wrk failed: {exc}")
    rss, _ = server.worker_rss_mib(running)
    if measured.requests == 0:
        note = found.error or "no request finished within the run"
        return report.Row(op.key, op.title, connections, rss_mib=rss, note=note)
    return report.Row(
        op.key,
        op.title,
        connections,
        per_second=measured.per_second,
        p50_ms=measured.p50_ms,
        p99_ms=measured.p99_ms,
        errors=measured.errors,
        requests=measured.requests,
        statements=found.statements,
        rss_mib=rss,
        note=found.error or (measured.sample if measured.errors else ""),
    )


def header(
    args: argparse.Namespace, started: datetime, argv: Sequence[str] | None
) -> list[str]:
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench.run", *given])
    threads = f"up to {os.cpu_count()} threads"
    return [
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"- rows: {args.duration:g} s each after a {args.warmup:g} s warm-up; "
        f"seed-bench --scale {args.scale:g} (2,000 users, 500 projects and 50,000 "
        "tasks at scale 1)",
        f"- trackql {report.git_revision()}, Python {sys.version.split()[0]}, "
        f"{load.wrk_version()} ({threads}, on the same machine as the server)",
        f"- packages: {report.package_versions()}",
        f"- machine: {report.machine()}; load average {os.getloadavg()[0]:.1f} at "
        "the start (other work on the machine skews every number)",
        "- SQL / req: statements one request sends, counted in-process on the same "
        "database (transaction control left out)",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
