"""The results as markdown: one table per server set-up, with the versions and the
machine they were measured on."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "argon2-cffi",
    "pyjwt",
    "orjson",
)


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    title: str
    concurrency: int | None = None
    per_second: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    requests: int | None = None
    statements: int | None = None
    rss_mib: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    backend: str  # "PostgreSQL 15.4" or "SQLite 3.40.1"
    workers: int
    worker_processes: int = 0
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def git_revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    sha = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return (
        f"{sha}-dirty" if git("status", "--porcelain", "--untracked-files=no") else sha
    )


def package_versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def machine() -> str:
    memory = _first_field("/proc/meminfo", "MemTotal")
    gib = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB" if memory else "?"
    cpu = _first_field("/proc/cpuinfo", "model name") or platform.processor()
    return f"{os.cpu_count()} CPUs ({cpu}), {gib} memory, Linux {platform.release()}"


def _first_field(path: str, name: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def render(header: Sequence[str], sections: Sequence[Section]) -> str:
    parts = ["# trackql benchmark", "", *header, ""]
    for section in sections:
        parts += _section(section)
    return "\n".join(parts).rstrip() + "\n"


COLUMNS = (
    "op",
    "what",
    "conc.",
    "req/s",
    "p50 ms",
    "p99 ms",
    "p99/p50",
    "errors / requests",
    "SQL / req",
    "RSS MiB",
    "note",
)


def _section(section: Section) -> list[str]:
    plural = "worker" if section.workers == 1 else "workers"
    lines = [f"## {section.backend}, {section.workers} {plural}", ""]
    lines += [f"- {note}" for note in section.notes]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in section.rows]
    return [*lines, ""]


def _cells(row: Row) -> list[str]:
    ratio = (
        f"{row.p99_ms / row.p50_ms:.1f}"
        if row.p50_ms and row.p99_ms is not None
        else "-"
    )
    errors = (
        f"{row.errors:,} / {row.requests:,}"
        if row.errors is not None and row.requests is not None
        else "-"
    )
    return [
        row.key,
        row.title,
        _number(row.concurrency, "{:d}"),
        _number(row.per_second, "{:,.0f}"),
        _number(row.p50_ms, "{:.1f}"),
        _number(row.p99_ms, "{:.1f}"),
        ratio,
        errors,
        _number(row.statements, "{:d}"),
        _number(row.rss_mib, "{:.0f}"),
        row.note.replace("|", "\\|").replace("\n", " "),
    ]


def _number(value: float | None, template: str) -> str:
    return "-" if value is None else template.format(value)
