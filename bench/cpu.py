"""CPU time per request, split between trackql's workers, PostgreSQL and wrk.

On two shared cores a rate says how fast the whole machine was; this says who spent
the time. The server runs as bench.run runs it (a fresh seeded database,
`trackql serve --workers N`, production settings); for each request body wrk warms
up, then drives it while the user and system CPU time of the workers, of every
`postgres` process and of wrk itself is read from `/proc` before and after. Two
bodies beside the operations isolate the fixed costs: `fixed` is `{ __typename }`
with the bench user's token (HTTP, middleware, a prepared document, no statement)
and `check` is `{ me { id } }` (the same plus the session check: the caller's
`me` needs no statement of its own).

    python -m bench.cpu                          # fixed, check, Q1, Q2, Q3
    python -m bench.cpu --bodies Q1 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import load, operations, server
from bench.operations import Body, Targets
from bench.run import add_admin_url, find_targets, log_in

FIXED_COSTS: dict[str, Callable[[Targets], Body]] = {
    "fixed": lambda _: {"query": "{ __typename }"},
    "check": lambda _: {"query": "{ me { id } }"},
}
READS = ("Q1", "Q2", "Q3")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Ticks:
    """Clock ticks of CPU time: user plus system, and system alone."""

    total: int = 0
    kernel: int = 0

    def __add__(self, other: Ticks) -> Ticks:
        return Ticks(self.total + other.total, self.kernel + other.kernel)

    def __sub__(self, other: Ticks) -> Ticks:
        return Ticks(self.total - other.total, self.kernel - other.kernel)


@dataclass(frozen=True, slots=True)
class Split:
    """Microseconds of CPU per request."""

    body: str
    per_second: float
    errors: int
    workers_us: float
    workers_kernel_us: float
    postgres_us: float
    wrk_us: float

    @property
    def total_us(self) -> float:
        return self.workers_us + self.postgres_us + self.wrk_us


def parse_stat(stat: str) -> Ticks:
    """utime + stime and stime of one `/proc/<pid>/stat` line."""
    fields = server.stat_fields(stat)
    user, system = int(fields[11]), int(fields[12])
    return Ticks(user + system, system)


def ticks_of(pids: Iterable[int]) -> Ticks:
    # A process that exited since it was listed reads as "": its time is gone.
    return sum(
        (parse_stat(stat) for pid in pids if (stat := server.read_proc(pid, "stat"))),
        Ticks(),
    )


def split(
    body: str,
    measured: load.Load,
    workers: Ticks,
    postgres: Ticks,
    wrk_seconds: float,
) -> Split:
    requests = max(measured.requests, 1)

    def per_request(ticks: int) -> float:
        return ticks / TICKS_PER_SECOND / requests * 1e6

    return Split(
        body,
        measured.per_second,
        measured.errors,
        per_request(workers.total),
        per_request(workers.kernel),
        per_request(postgres.total),
        wrk_seconds / requests * 1e6,
    )


def render(splits: Sequence[Split]) -> str:
    lines = [
        "| body | req/s | errors | workers µs (kernel) | PostgreSQL µs | wrk µs "
        "| total µs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in splits:
        lines.append(
            f"| {s.body} | {s.per_second:,.0f} | {s.errors} "
            f"| {s.workers_us:,.0f} ({s.workers_kernel_us:,.0f}) "
            f"| {s.postgres_us:,.0f} | {s.wrk_us:,.0f} | {s.total_us:,.0f} |"
        )
    return "\n".join(lines)


def _wrk_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(
    running: server.Server,
    body_key: str,
    body: Body,
    token: str,
    args: argparse.Namespace,
) -> Split:
    load.drive(running.url, body, token, connections=args.connections, seconds=3)
    workers = server.worker_pids(running)
    postgres = server.postgres_pids()
    workers_before, postgres_before = ticks_of(workers), ticks_of(postgres)
    wrk_before = _wrk_seconds()
    measured = load.drive(
        running.url, body, token, connections=args.connections, seconds=args.duration
    )
    return split(
        body_key,
        measured,
        ticks_of(workers) - workers_before,
        ticks_of(postgres) - postgres_before,
        _wrk_seconds() - wrk_before,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.cpu", description=__doc__)
    parser.add_argument("--bodies", default="fixed,check,Q1,Q2,Q3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10, help="seconds each")
    add_admin_url(parser)
    args = parser.parse_args(argv)
    if load.wrk_missing("bench.cpu"):
        return 2
    try:
        builders = request_bodies(args.bodies)
    except ValueError as exc:
        parser.error(str(exc))
    with server.postgres_database(args.admin_url) as url:
        env = server.server_env(url)
        bench_user = server.migrate_and_seed(env, 1.0)
        targets = asyncio.run(find_targets(url, bench_user))
        with (
            tempfile.TemporaryDirectory() as folder,
            server.running_server(env, args.workers, Path(folder) / "log") as running,
        ):
            token, error = log_in(running.url, targets)
            if token is None:
                print(f"bench.cpu: login failed: {error}", file=sys.stderr)
                return 1
            splits = []
            for key, build in builders.items():
                print(f"bench.cpu: {key}", file=sys.stderr)
                splits.append(measure(running, key, build(targets), token, args))
    print(
        f"--workers {args.workers}, {args.connections} connections, "
        f"{args.duration:g} s per body; CPU time per request:\n"
    )
    print(render(splits))
    return 0


def request_bodies(keys: str) -> dict[str, Callable[[Targets], Body]]:
    """The request body of each key, in order: a fixed cost, or an operation that
    reads (the others change data or are not one request)."""
    builders: dict[str, Callable[[Targets], Body]] = {}
    for key in (key.strip() for key in keys.split(",")):
        if key in FIXED_COSTS:
            builders[key] = FIXED_COSTS[key]
        elif key:
            (op,) = operations.select(key)
            if op.key not in READS:
                raise ValueError(f"{op.key} is not a read: one of {', '.join(READS)}")
            builders[op.key] = op.body
    return builders


if __name__ == "__main__":
    sys.exit(main())
