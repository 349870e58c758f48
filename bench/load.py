"""wrk as the load generator: one run of bench/graphql.lua with one request body."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.operations import Body

SCRIPT = Path(__file__).with_name("graphql.lua")
INSTALL_HINT = "wrk is not installed; install it with: apt-get install -y wrk"
RESULT_PREFIX = "TRACKQL_RESULT "
_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')
_CODE = re.compile(r'"code"\s*:\s*"([A-Z_]+)"')


@dataclass(frozen=True, slots=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # failed answers plus socket errors and timeouts
    sample: str  # the start of the first failed answer

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    wrk = wrk_path()
    if wrk is None:
        return "missing"
    # `wrk -v` prints its version then its usage, with status 1.
    shown = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (shown.stdout or shown.stderr).splitlines()[0].split(" Copyright")[0]


def wrk_missing(program: str) -> bool:
    """True, with the install command on stderr, when wrk is not on the PATH."""
    if wrk_path() is not None:
        return False
    print(f"{program}: {INSTALL_HINT}", file=sys.stderr)
    return True


def drive(
    url: str, body: Body, token: str | None, *, connections: int, seconds: float
) -> Load:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(INSTALL_HINT)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(body, file)
    try:
        command = [
            wrk,
            f"--threads={min(connections, os.cpu_count() or 1)}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=10s",
            f"--script={SCRIPT}",
            f"{url}/graphql",
            "--",
            file.name,
            token or "",
        ]
        finished = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        Path(file.name).unlink()
    return parse(finished.stdout)


def parse(output: str) -> Load:
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            raw = json.loads(line.removeprefix(RESULT_PREFIX))
            return Load(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                errors=raw["failed"] + raw["socket_errors"],
                sample=describe(raw["sample"]),
            )
    raise RuntimeError(f"wrk printed no result line:\n{output}")


def describe(answer: str) -> str:
    """`CODE: message` of a failed answer's first error (the Lua script keeps only
    its start, so it may not parse as JSON), else the answer's start."""
    message = _MESSAGE.search(answer)
    if message is None:
        return answer[:120]
    code = _CODE.search(answer)
    return f"{code[1] if code else 'ERROR'}: {message[1]}"
