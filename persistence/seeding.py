"""The benchmark data set: deterministic users, projects, members and tasks, written
with Core bulk inserts into an empty, migrated database.

Every value derives from the row's index and the UTC midnight of `now`, so two runs on
the same day on two fresh databases give identical rows (password hashes aside: argon2
salts them). Dates are relative to that midnight, so the share of overdue and pending
tasks is the same whichever day the benchmark runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.errors import Conflict
from domain.models import Base, ProjectRole, Role
from persistence.engine import PoolOptions, create_engine
from persistence.migrate import is_current

USERS = 2_000
PROJECTS = 500
TASKS_PER_PROJECT = 100
MEMBERS_PER_PROJECT = 3
BENCH_EMAIL = "bench@example.com"
BATCH_ROWS = 5_000

# Per 100 tasks: 40 completed, 5 overdue, 55 pending (due later or never).
COMPLETED_RESIDUES = (1, 3)  # of index % 5
OVERDUE_EVERY = 20  # indexes 0, 20, 40, 60, 80: none of them is completed

_VERBS = ("Fix", "Write", "Review", "Plan", "Ship", "Test", "Design", "Refactor")
_NOUNS = ("login page", "invoice export", "search index", "release notes", "backup")
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen")


@dataclass(frozen=True, slots=True)
class SeedSummary:
    users: int
    projects: int
    tasks: int
    bench_user_id: int
    bench_email: str

    def describe(self) -> str:
        return f"{self.users} users, {self.projects} projects, {self.tasks} tasks"


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def sizes(scale: float) -> tuple[int, int]:
    """(users, projects) at a scale; tasks per project stay at 100 at every scale."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    users = max(MEMBERS_PER_PROJECT + 1, round(USERS * scale))
    return users, max(1, round(PROJECTS * scale))


async def seed_database(
    database_url: str,
    pool: PoolOptions,
    *,
    password_hash: str,
    now: datetime,
    scale: float = 1.0,
) -> SeedSummary:
    """Seed the database at a URL; Conflict unless it is migrated and empty."""
    engine = create_engine(database_url, pool)
    try:
        if not await is_current(engine):
            raise Conflict("the database is not migrated; run `trackql migrate` first")
        return await seed_bench(
            engine, password_hash=password_hash, now=now, scale=scale
        )
    finally:
        await engine.dispose()


async def seed_bench(
    engine: AsyncEngine, *, password_hash: str, now: datetime, scale: float = 1.0
) -> SeedSummary:
    """Fill an empty database; Conflict if it already has users."""
    user_count, project_count = sizes(scale)
    anchor = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with engine.begin() as conn:
        users = _table("users")
        if (await conn.execute(select(func.count()).select_from(users))).scalar_one():
            raise Conflict("the database already has users; seed-bench needs it empty")
        user_ids = await _insert_returning_ids(
            conn, users, user_rows(user_count, password_hash, anchor)
        )
        *user_ids, bench_id = user_ids
        teams = project_teams(user_ids, project_count)
        project_ids = await _insert_returning_ids(
            conn, _table("projects"), project_rows([team[0] for team in teams], anchor)
        )
        await _insert_batches(
            conn,
            _table("project_members"),
            member_rows(project_ids, teams, bench_id, anchor),
        )
        await _insert_batches(
            conn, _table("tasks"), task_rows(project_ids, teams, anchor)
        )
    async with engine.begin() as conn:
        # The planner's statistics, which autovacuum (off on some servers, late on
        # all) would gather only later: without them PostgreSQL scans `users` for
        # a batch of ids instead of using its primary key.
        await conn.execute(text("ANALYZE"))
    return SeedSummary(
        users=user_count + 1,
        projects=project_count,
        tasks=project_count * TASKS_PER_PROJECT,
        bench_user_id=bench_id,
        bench_email=BENCH_EMAIL,
    )


async def _insert_returning_ids(
    conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    # Ids come from the database's own sequence (so later inserts never collide), in
    # the order of the rows: a fresh database hands out 1, 2, 3, ... every time.
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list((await conn.execute(statement, rows)).scalars())


async def _insert_batches(
    conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]
) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            await conn.execute(insert(table), batch)
            batch = []
    if batch:
        await conn.execute(insert(table), batch)


def project_teams(user_ids: Sequence[int], projects: int) -> list[list[int]]:
    """Per project: its owner's id, then its three members' ids."""
    users = len(user_ids)
    return [
        [
            user_ids[i]
            for i in (
                owner_index(p, users, projects),
                *member_indexes(p, users, projects),
            )
        ]
        for p in range(projects)
    ]


def owner_index(project: int, users: int, projects: int) -> int:
    """Owners spread evenly over the users (distinct while users >= projects)."""
    return project * users // projects % users


def member_indexes(project: int, users: int, projects: int) -> list[int]:
    """Three users other than the owner, a third of the user list apart."""
    owner, step = owner_index(project, users, projects), users // 3
    return [(owner + 1 + k * step) % users for k in range(MEMBERS_PER_PROJECT)]


def user_rows(count: int, password_hash: str, anchor: datetime) -> list[dict[str, Any]]:
    start = anchor - timedelta(days=400)
    rows = [
        _user(f"user{i + 1:05d}@example.com", _person(i), password_hash, start, i)
        for i in range(count)
    ]
    rows.append(_user(BENCH_EMAIL, "Bench User", password_hash, start, count))
    return rows


def _person(i: int) -> str:
    return f"{_FIRST[i % len(_FIRST)]} {_LAST[i // len(_FIRST) % len(_LAST)]} {i + 1}"


def _user(
    email: str, name: str, password_hash: str, start: datetime, i: int
) -> dict[str, Any]:
    created = start + timedelta(minutes=i)
    return {
        "email": email,
        "name": name,
        "password_hash": password_hash,
        "role": Role.USER,
        "is_active": True,
        "is_verified": True,
        "created_at": created,
        "updated_at": created,
    }


def project_rows(owners: Sequence[int], anchor: datetime) -> list[dict[str, Any]]:
    start = anchor - timedelta(days=300)
    rows = []
    for p, owner in enumerate(owners):
        created = start + timedelta(hours=p)
        rows.append(
            {
                "name": f"Project {p + 1:03d}: {_NOUNS[p % len(_NOUNS)]}",
                "description": f"Benchmark project {p + 1}.",
                "owner_id": owner,
                "is_archived": False,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def member_rows(
    project_ids: Sequence[int],
    teams: Sequence[Sequence[int]],
    bench_id: int,
    anchor: datetime,
) -> Iterator[dict[str, Any]]:
    added = anchor - timedelta(days=250)
    for project_id, (owner, *members) in zip(project_ids, teams, strict=True):
        yield _member(project_id, owner, ProjectRole.OWNER, added)
        for user_id in members:
            yield _member(project_id, user_id, ProjectRole.MEMBER, added)
        yield _member(project_id, bench_id, ProjectRole.MEMBER, added)


def _member(
    project_id: int, user_id: int, role: ProjectRole, added: datetime
) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "user_id": user_id,
        "role": role,
        "added_at": added,
    }


def task_rows(
    project_ids: Sequence[int], teams: Sequence[Sequence[int]], anchor: datetime
) -> Iterator[dict[str, Any]]:
    start = anchor - timedelta(days=200)
    for p, (project_id, team) in enumerate(zip(project_ids, teams, strict=True)):
        assignees: list[int | None] = [*team, None]
        for t in range(TASKS_PER_PROJECT):
            created = start + timedelta(minutes=5 * (p * TASKS_PER_PROJECT + t))
            yield _task(project_id, p, t, created, anchor, assignees)


def _task(
    project_id: int,
    p: int,
    t: int,
    created: datetime,
    anchor: datetime,
    assignees: Sequence[int | None],
) -> dict[str, Any]:
    completed = t % 5 in COMPLETED_RESIDUES
    completed_at = created + timedelta(hours=1 + t % 48) if completed else None
    return {
        "project_id": project_id,
        "title": f"{_VERBS[(t + p) % len(_VERBS)]} {_NOUNS[t % len(_NOUNS)]} #{t + 1}",
        "description": f"Task {t + 1} of project {p + 1}." if t % 4 == 0 else None,
        "priority": 1 + (t * 7 + p * 3) % 5,
        "is_completed": completed,
        "completed_at": completed_at,
        "due_date": _due_date(p, t, completed, anchor),
        "assignee_id": assignees[(t + p) % len(assignees)],
        "created_at": created,
        "updated_at": completed_at or created,
    }


def _due_date(p: int, t: int, completed: bool, anchor: datetime) -> datetime | None:
    if completed:
        return anchor - timedelta(days=1 + t % 40) if t % 3 == 0 else None
    if t % OVERDUE_EVERY == 0:
        return anchor - timedelta(days=1 + (t + p) % 30)
    # Pending: due from two days after the anchor on, so none turns overdue that day.
    return anchor + timedelta(days=2 + (t * 3 + p) % 60) if t % 2 == 0 else None
