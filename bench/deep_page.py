"""Deep keyset pages cost what the first page costs; nested reads are a few statements.

Run against the local PostgreSQL (a scratch database is created and dropped):

    .venv/bin/python -m bench.deep_page
    TRACKQL_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.deep_page --tasks 50000 --page-size 50

It writes N tasks into one project (plus a second user's project, so the visibility
filter has rows to reject), walks every page of 50 by cursor from the first to page
N/50, then times the first and the last page again (median of --repeat runs) both as
whole GraphQL requests and as the page's SQL statement alone. Last it counts the SQL
statements of "20 projects, each with owner, members and its first 10 tasks with
assignees". `nox -s bench` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from domain.models import AuthSession, Project, ProjectMember, ProjectRole, Task, User
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.engine import normalize_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = """
query ($first: Int!, $after: String, $filter: TaskFilter, $orderBy: TaskOrder) {
  tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    nodes { id title priority dueDate }
    pageInfo { hasNextPage endCursor }
  }
}
"""
NESTED = """
{ projects(first: 20) { nodes {
    name owner { email } members { role user { email } }
    tasks(first: 10) { nodes { title assignee { email } } }
} } }
"""
START = datetime(2026, 1, 1, tzinfo=UTC)


@asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    admin_url = normalize_url(url)
    name = f"trackql_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def seed(runtime: Runtime, tasks: int) -> tuple[int, int, str]:
    """One owner with a project of `tasks` tasks, a stranger with a project of their
    own, and 20 small projects with members; returns (owner, project, session id)."""
    engine = runtime.engine
    async with engine.begin() as conn:
        users: list[dict[str, Any]] = [
            {"email": f"u{n}@bench.test", "name": f"User {n}", "password_hash": "x"}
            | {"role": "USER", "is_active": True, "is_verified": True}
            | {"created_at": START, "updated_at": START}
            for n in range(4)
        ]
        ids = (
            (await conn.execute(insert(User).returning(User.id), users)).scalars().all()
        )
        owner, stranger, *others = ids
        big = await _project(conn, owner, "Large", [])
        await _project(conn, stranger, "Stranger's", [])
        await _tasks(conn, big, owner, tasks)
        for n in range(20):
            small = await _project(conn, others[n % 2], f"Small {n}", [owner])
            await _tasks(conn, small, owner, 12)
        session_id = str(uuid.uuid4())
        await conn.execute(
            insert(AuthSession).values(id=session_id, user_id=owner, created_at=START)
        )
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
    return owner, big, session_id


async def _project(conn: Any, owner: int, name: str, members: list[int]) -> int:
    values = {"name": name, "owner_id": owner, "is_archived": False}
    values |= {"created_at": START, "updated_at": START}
    project_id: int = (
        await conn.execute(insert(Project).returning(Project.id), [values])
    ).scalar_one()
    rows = [{"user_id": owner, "role": ProjectRole.OWNER}] + [
        {"user_id": m, "role": ProjectRole.MEMBER} for m in members
    ]
    for row in rows:
        row |= {"project_id": project_id, "added_at": START}
    await conn.execute(insert(ProjectMember), rows)
    return project_id


async def _tasks(conn: Any, project_id: int, assignee: int, count: int) -> None:
    for start in range(0, count, 5_000):
        rows = [
            {
                "project_id": project_id,
                "title": f"Task {n:06d}",
                "priority": 1 + n % 5,
                "is_completed": n % 7 == 0,
                "due_date": None if n % 4 == 0 else START + timedelta(hours=n % 999),
                "assignee_id": assignee if n % 3 == 0 else None,
                # Ties every 10 rows: the id tie-breaker is exercised too.
                "created_at": START + timedelta(seconds=n // 10),
                "updated_at": START,
            }
            for n in range(start, min(start + 5_000, count))
        ]
        await conn.execute(insert(Task), rows)


@contextmanager
def sql_timer(runtime: Runtime) -> Iterator[list[tuple[str, float]]]:
    """(statement, seconds) of every statement sent inside the block."""
    log: list[tuple[str, float]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.append((statement, time.perf_counter() - started.pop(id(cursor))))

    target = runtime.engine.sync_engine
    event.listen(target, "before_cursor_execute", before)
    event.listen(target, "after_cursor_execute", after)
    try:
        yield log
    finally:
        event.remove(target, "before_cursor_execute", before)
        event.remove(target, "after_cursor_execute", after)


async def timed_page(
    client: httpx.AsyncClient, runtime: Runtime, variables: dict[str, Any]
) -> tuple[float, float, dict[str, Any]]:
    """(request seconds, seconds of the tasks statement, the connection)."""
    with sql_timer(runtime) as log:
        started = time.perf_counter()
        response = await client.post(
            "/graphql", json={"query": PAGE, "variables": variables}
        )
        elapsed = time.perf_counter() - started
    body = response.json()
    assert "errors" not in body, body
    page_sql = max(seconds for statement, seconds in log if "FROM tasks" in statement)
    return elapsed, page_sql, body["data"]["tasks"]


async def measure(args: argparse.Namespace, url: str) -> None:
    settings = Settings(secret_key="bench-" * 8, database_url=url, env="test")
    runtime = Runtime.build(settings)
    from persistence.migrate import upgrade

    await upgrade(runtime.engine)
    started = time.perf_counter()
    owner, project, session_id = await seed(runtime, args.tasks)
    print(f"seeded {args.tasks:,} tasks in {time.perf_counter() - started:.1f} s")
    token = runtime.signer.issue(owner, session_id, datetime.now(UTC))
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:
        from graph.relay import to_global_id

        for label, variables in (
            (
                "tasks(filter: {projectId}) by CREATED_AT",
                {"filter": {"projectId": str(to_global_id("Project", project))}},
            ),
            (
                "tasks(filter: {projectId}) by PRIORITY DESC",
                {
                    "filter": {"projectId": str(to_global_id("Project", project))},
                    "orderBy": {"field": "PRIORITY", "direction": "DESC"},
                },
            ),
            ("tasks (all visible) by CREATED_AT", {}),
        ):
            await walk(client, runtime, label, variables, args)
        with sql_timer(runtime) as log:
            nested = await client.post("/graphql", json={"query": NESTED})
        assert "errors" not in nested.json(), nested.text
        print(
            f"\nnested query (20 projects, owner, members, 10 tasks, assignees): "
            f"{len(log)} SQL statements (the first reads the caller)"
        )
    await runtime.close()


async def walk(
    client: httpx.AsyncClient,
    runtime: Runtime,
    label: str,
    variables: dict[str, Any],
    args: argparse.Namespace,
) -> None:
    size = args.page_size
    cursors: list[str | None] = [None]
    visited = 0
    started = time.perf_counter()
    while True:
        page_vars = {**variables, "first": size, "after": cursors[-1]}
        _, _, page = await timed_page(client, runtime, page_vars)
        visited += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursors.append(page["pageInfo"]["endCursor"])
    walked = time.perf_counter() - started
    print(
        f"\n{label}: walked {len(cursors)} pages ({visited:,} rows) in {walked:.1f} s"
    )
    for number in (1, len(cursors)):
        page_vars = {**variables, "first": size, "after": cursors[number - 1]}
        runs = [
            await timed_page(client, runtime, page_vars) for _ in range(args.repeat)
        ]
        request = statistics.median(r[0] for r in runs) * 1000
        statement = statistics.median(r[1] for r in runs) * 1000
        print(
            f"  page {number:>5}: request {request:6.2f} ms, SQL {statement:6.2f} ms"
            f" (median of {args.repeat})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("TRACKQL_BENCH_DATABASE_URL", DEFAULT_URL)

    async def run() -> None:
        async with scratch_database(url) as scratch:
            await measure(args, scratch)

    asyncio.run(run())


if __name__ == "__main__":
    main()
