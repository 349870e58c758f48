from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from starlette.applications import Starlette

from domain.errors import Conflict
from domain.models import Project, ProjectMember, ProjectRole, Task, User
from domain.security import verify_password
from graph.cli import main
from graph.runtime import Runtime
from persistence.engine import create_engine, normalize_url
from persistence.migrate import upgrade
from persistence.seeding import BENCH_EMAIL, seed_bench
from tests.factories import PASSWORD, PASSWORD_HASH, UserFactory

SCALE = 0.02  # 40 users and 10 projects, still 100 tasks per project
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
TABLES = ("users", "projects", "project_members", "tasks")


async def seed(engine: AsyncEngine) -> None:
    await seed_bench(engine, password_hash=PASSWORD_HASH, now=NOW, scale=SCALE)


async def scalar(engine: AsyncEngine, query: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


async def all_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        return {
            table: [
                tuple(row)
                for row in await conn.execute(
                    text(f"SELECT * FROM {table} ORDER BY 1, 2")  # noqa: S608
                )
            ]
            for table in TABLES
        }


@pytest.fixture
def engine(runtime: Runtime, app: Starlette) -> AsyncEngine:
    """The test database, migrated (the app's lifespan migrates SQLite)."""
    return runtime.engine


@pytest.fixture
async def second_engine(
    database_url: str, is_postgres: bool, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """Another fresh, migrated database on the same backend."""
    if not is_postgres:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'second.db'}")
        await upgrade(engine)
        yield engine
        await engine.dispose()
        return
    admin_url = normalize_url(database_url)
    name = f"trackql_seed_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(admin_url.set(database=name).render_as_string(False))
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_seeds_scaled_users_and_projects_with_a_hundred_tasks_each(
    engine: AsyncEngine,
) -> None:
    await seed(engine)

    engine = engine
    assert await scalar(engine, select(func.count()).select_from(User)) == 41
    assert await scalar(engine, select(func.count()).select_from(Project)) == 10
    per_project = (
        select(func.count().label("n")).select_from(Task).group_by(Task.project_id)
    ).subquery()
    assert await scalar(engine, select(func.min(per_project.c.n))) == 100
    assert await scalar(engine, select(func.max(per_project.c.n))) == 100
    assert (
        await scalar(engine, select(func.count(func.distinct(Project.owner_id)))) == 10
    )


async def test_completes_forty_percent_of_tasks(engine: AsyncEngine) -> None:
    await seed(engine)

    completed = await scalar(
        engine, select(func.count()).where(Task.is_completed.is_(True))
    )
    total = await scalar(engine, select(func.count()).select_from(Task))
    assert completed / total == pytest.approx(0.40, abs=0.01)


async def test_every_project_keeps_fifty_pending_tasks_and_some_are_overdue(
    engine: AsyncEngine,
) -> None:
    await seed(engine)

    open_task = Task.is_completed.is_(False)
    pending = (
        select(func.count().label("n"))
        .where(open_task, (Task.due_date.is_(None)) | (Task.due_date >= NOW))
        .group_by(Task.project_id)
        .subquery()
    )
    overdue = select(func.count()).where(open_task, Task.due_date < NOW)
    assert await scalar(engine, select(func.min(pending.c.n))) >= 50
    assert await scalar(engine, select(func.count()).select_from(pending)) == 10
    assert await scalar(engine, overdue) > 0


async def test_leaves_the_planner_statistics_of_the_rows_it_wrote(
    engine: AsyncEngine, is_postgres: bool
) -> None:
    await seed(engine)

    # Without them a batch of users by id scans the whole table on PostgreSQL.
    if is_postgres:
        estimated = text("SELECT reltuples FROM pg_class WHERE relname = 'tasks'")
    else:
        estimated = text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'tasks' LIMIT 1")
    found = await scalar(engine, estimated)
    assert float(str(found).split()[0]) == 1_000


async def test_owners_and_three_members_belong_to_each_project(
    engine: AsyncEngine,
) -> None:
    await seed(engine)

    async with engine.connect() as conn:
        roles = (
            await conn.execute(
                select(ProjectMember.role, func.count()).group_by(ProjectMember.role)
            )
        ).all()
        owners_listed = (
            await conn.execute(
                select(func.count())
                .select_from(Project)
                .join(
                    ProjectMember,
                    (ProjectMember.project_id == Project.id)
                    & (ProjectMember.user_id == Project.owner_id),
                )
                .where(ProjectMember.role == ProjectRole.OWNER)
            )
        ).scalar_one()
    # Per project: the owner, three members and the bench user.
    assert dict(roles) == {ProjectRole.OWNER: 10, ProjectRole.MEMBER: 40}
    assert owners_listed == 10


async def test_bench_user_is_a_member_of_every_project_with_the_password(
    engine: AsyncEngine,
) -> None:
    await seed(engine)

    async with engine.connect() as conn:
        bench = (
            await conn.execute(select(User).where(User.email == BENCH_EMAIL))
        ).one()
        memberships = (
            await conn.execute(
                select(ProjectMember.role).where(ProjectMember.user_id == bench.id)
            )
        ).scalars()
        assert list(memberships) == [ProjectRole.MEMBER] * 10
    assert verify_password(bench.password_hash, PASSWORD)


async def test_two_runs_on_fresh_databases_give_identical_rows(
    engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    await seed(engine)
    await seed(second_engine)

    first, second = await all_rows(engine), await all_rows(second_engine)
    assert first == second
    assert len(first["tasks"]) == 1000


async def test_refuses_a_database_that_already_has_users(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    await UserFactory.create_async()

    with pytest.raises(Conflict, match="already has users"):
        await seed(engine)

    assert await scalar(engine, select(func.count()).select_from(Task)) == 0


def test_command_prints_the_bench_user_then_refuses_to_run_twice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRACKQL_ENV", "test")
    monkeypatch.setenv("TRACKQL_DATABASE_URL", f"sqlite:///{tmp_path / 'bench.db'}")
    assert main(["migrate"]) == 0
    capsys.readouterr()

    first = main(["seed-bench", "--scale", str(SCALE)])
    printed = capsys.readouterr().out
    second = main(["seed-bench", "--scale", str(SCALE)])

    assert first == 0
    email, password = printed.splitlines()[-1].removeprefix("bench user: ").split()
    assert email == BENCH_EMAIL
    assert len(password) >= 16
    assert second == 1
    assert "already has users" in capsys.readouterr().err


def test_command_refuses_a_database_that_is_not_migrated(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRACKQL_ENV", "test")
    monkeypatch.setenv("TRACKQL_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")

    status = main(["seed-bench"])

    assert status == 1
    assert "trackql migrate" in capsys.readouterr().err
