"""`trackql serve` on a free loopback port, on an SQLite file that `trackql seed-demo`
has filled: the README's first hour, run by the bench harness's server helper."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.server import running_server, trackql_command


@contextmanager
def demo_server(workdir: Path) -> Iterator[str]:
    """Seed, serve and give the base URL; the server is stopped on exit."""
    # Only the variables set here: a developer's own TRACKQL_* must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKQL_")}
    env.update(
        TRACKQL_ENV="test",
        TRACKQL_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
    )
    subprocess.run(
        [trackql_command(), "seed-demo"],
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with running_server(env, workers=1, log=workdir / "serve.log") as server:
        yield server.url
