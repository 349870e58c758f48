from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from domain.security import verify_password
from graph.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TRACKQL_ENV": "test",
            **(env or {}),
        },
        cwd=cwd or ROOT,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_invalid_setting_stops_with_one_line_and_status_2() -> None:
    result = run_cli("migrate", env={"TRACKQL_ACCESS_TOKEN_MINUTES": "ten"})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "trackql: TRACKQL_ACCESS_TOKEN_MINUTES: expected a positive integer, got 'ten'"
    ]


def test_export_schema_to_stdout_matches_the_committed_file() -> None:
    result = run_cli("export-schema", "--output", "-")

    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text()


def test_export_schema_writes_the_given_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACKQL_ENV", "test")
    target = tmp_path / "out.graphql"

    status = main(["export-schema", "--output", str(target)])

    assert status == 0
    assert "type Query" in target.read_text()


def test_migrate_creates_an_sqlite_database(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"

    result = run_cli("migrate", env={"TRACKQL_DATABASE_URL": f"sqlite:///{database}"})

    assert result.returncode == 0, result.stderr
    assert database.exists()
    again = run_cli("migrate", env={"TRACKQL_DATABASE_URL": f"sqlite:///{database}"})
    assert again.returncode == 0


def test_seed_demo_writes_demo_data_once_and_prints_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "demo.db"
    env = {"TRACKQL_DATABASE_URL": f"sqlite:///{database}"}
    monkeypatch.setenv("TRACKQL_ENV", "test")
    monkeypatch.setenv("TRACKQL_DATABASE_URL", env["TRACKQL_DATABASE_URL"])

    status = main(["seed-demo"])
    first = capsys.readouterr().out
    second = run_cli("seed-demo", env=env)

    assert status == 0
    assert "demo@trackql.dev" in first
    assert "demo-password-1" in first
    assert second.returncode == 0, second.stderr
    assert "already there; nothing changed" in second.stdout
    # A sqlite3 connection's `with` ends a transaction, not the connection.
    with closing(sqlite3.connect(database)) as db:
        users = db.execute("SELECT email, password_hash FROM users").fetchall()
        projects = db.execute("SELECT count(*), sum(is_archived) FROM projects")
        tasks = db.execute(
            "SELECT count(*), sum(is_completed), count(DISTINCT priority),"
            " count(due_date), count(assignee_id) FROM tasks"
        )
        project_counts, task_counts = projects.fetchone(), tasks.fetchone()
        owners = db.execute(
            "SELECT count(*) FROM project_members WHERE role = 'OWNER'"
        ).fetchone()
    assert len(users) == 4
    assert all(verify_password(h, "demo-password-1") for _, h in users)
    assert project_counts == (4, 1)
    assert owners == (4,)
    count, completed, priorities, with_due, assigned = task_counts
    assert count == 13
    assert 0 < completed < count
    assert priorities == 5
    assert 0 < with_due < count
    assert 0 < assigned < count
