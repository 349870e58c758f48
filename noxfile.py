"""Every way to check trackql; the README and .ci/run call these sessions."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "schema",
    "tests-3.11",
    "tests-3.13",
    "tests_postgres",
    "browser",
    "fuzz",
]

PACKAGES = ["graph", "domain", "persistence"]
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
BROWSER_TESTS = "tests/browser"


def install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


def pytest(session: nox.Session, *, env: dict[str, str]) -> None:
    session.run(
        "pytest",
        "--cov",
        "--cov-report=term",
        # The browser test drives a server in a subprocess: nothing for coverage,
        # and the database it uses is its own SQLite file, so it runs once (browser).
        f"--ignore={BROWSER_TESTS}",
        *(session.posargs or ["-q"]),
        env=env,
    )


@nox.session(python=["3.11", "3.12", "3.13"])
def tests(session: nox.Session) -> None:
    """The test suite on SQLite, with the coverage gate."""
    install(session)
    # On SQLite even where TRACKQL_TEST_DATABASE_URL is set (CI sets it for
    # tests_postgres): nox passes its own environment on to every command.
    pytest(session, env={"TRACKQL_TEST_DATABASE_URL": ""})


@nox.session(python="3.11")
def tests_postgres(session: nox.Session) -> None:
    """The test suite on PostgreSQL at TRACKQL_TEST_DATABASE_URL; fails if down."""
    url = os.environ.get("TRACKQL_TEST_DATABASE_URL")
    if url is None:
        if os.environ.get("CI"):
            session.error("TRACKQL_TEST_DATABASE_URL must be set in CI")
        session.skip(f"set TRACKQL_TEST_DATABASE_URL (e.g. {LOCAL_POSTGRES}) to run")
    install(session)
    pytest(session, env={"TRACKQL_TEST_DATABASE_URL": url})


@nox.session(python="3.11")
def browser(session: nox.Session) -> None:
    """The explorer in Debian's headless Chromium (apt-get install chromium
    chromium-driver); skipped without it, except in CI, where it fails."""
    install(session)
    session.run("pytest", *(session.posargs or ["-q"]), BROWSER_TESTS)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the three packages and the bench harness."""
    install(session)
    session.run("mypy", "--strict", *PACKAGES, "bench")


@nox.session(python="3.11")
def schema(session: nox.Session) -> None:
    """Export the schema and fail if it differs from the committed schema.graphql."""
    install(session)
    exported = session.run(
        "trackql",
        "export-schema",
        "--output",
        "-",
        silent=True,
        env={"TRACKQL_ENV": "test"},
    )
    with open("schema.graphql", encoding="utf-8") as committed:
        if committed.read() != exported:
            session.error("schema.graphql differs from the exported schema")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """The benchmark (not run by default): a seeded PostgreSQL database at
    TRACKQL_BENCH_DATABASE_URL's server and a temporary SQLite file, each behind
    `trackql serve`, driven by wrk (apt-get install -y wrk). Arguments go to
    bench/run.py: `nox -s bench -- --duration 3 --concurrency 16` is a smoke run."""
    install(session)
    session.run("python", "-m", "bench.run", *session.posargs)


@nox.session(python="3.11")
def bench_pages(session: nox.Session) -> None:
    """Deep page vs first page on 50,000 tasks and the statement count of a nested
    read, on the PostgreSQL at TRACKQL_BENCH_DATABASE_URL (default: the local one).
    Not in the default sessions; arguments go to bench/deep_page.py."""
    install(session)
    session.run("python", "-m", "bench.deep_page", *session.posargs)


@nox.session(python="3.11")
def fuzz(session: nox.Session) -> None:
    """Generated GraphQL documents against a running `trackql serve` on a temporary
    SQLite file; fails on any HTTP 5xx or INTERNAL_SERVER_ERROR. The default budget
    is CI's small one; `nox -s fuzz -- --max-examples 5000` is a long run."""
    install(session)
    session.run(
        "pytest",
        "-m",
        "fuzz",
        "-p",
        "no:cacheprovider",
        "tests/fuzz",
        *(session.posargs or ["-q"]),
    )
