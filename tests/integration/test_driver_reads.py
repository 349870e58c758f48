"""On PostgreSQL a read-only unit of work sends its marked statements straight to
asyncpg (persistence/driver_reads.py). The rows are the ones SQLAlchemy returns, the
statement listeners still see them, and a failed read fails as SQLAlchemy's would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from domain.models import AuthSession, Role, TaskRecord, UserRecord
from domain.tasks import TaskStatus
from graph.runtime import Runtime
from persistence import accounts
from persistence.driver_pool import DriverPool
from persistence.keyset import PageRequest
from persistence.task_lists import (
    PROJECT_TASKS,
    TaskListing,
    counted_tasks_page,
    task_pages,
)
from persistence.tasks import TaskFilter, TaskOrder
from persistence.uow import SqlUnitOfWork
from tests.conftest import POSTGRES_URL
from tests.factories import TaskFactory, UserFactory, project_with_members

pytestmark = pytest.mark.skipif(
    POSTGRES_URL is None, reason="driver reads are PostgreSQL's"
)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

Read = Callable[[SqlUnitOfWork], Awaitable[Any]]


async def both_ways(
    runtime: Runtime, count_statements: Any, read: Read
) -> tuple[Any, Any, list[object]]:
    """What `read` returns on a read-only unit of work (the driver) and on a writing
    one (SQLAlchemy, in its transaction), and the read-only one's execution
    contexts."""
    reader = SqlUnitOfWork(runtime.session_factory, drivers=runtime.drivers)
    with count_statements() as log:
        on_the_driver = await read(reader)
    await reader.close()
    writer = SqlUnitOfWork(runtime.session_factory, writes=True)
    through_sqlalchemy = await read(writer)
    await writer.close()
    return on_the_driver, through_sqlalchemy, log.contexts


async def test_users_read_on_the_driver_are_sqlalchemys_records(
    runtime: Runtime, session: object, count_statements: Any
) -> None:
    ann = await UserFactory.create_async(role=Role.ADMIN)
    bob = await UserFactory.create_async(is_active=False)
    async with runtime.session_factory() as orm:
        orm.add(AuthSession(id="s-driver", user_id=ann.id))
        await orm.commit()

    async def read(uow: SqlUnitOfWork) -> Any:
        live = await uow.users.with_live_session(ann.id, "s-driver")
        gone = await uow.users.with_live_session(ann.id, "no such session")
        with_bob = await uow.users.with_live_session(ann.id, "s-driver", {bob.id, 0})
        gone_with_bob = await uow.users.with_live_session(bob.id, "s-driver", {bob.id})
        by_ids = await accounts.users_by_ids(uow, [bob.id, 0, ann.id, bob.id])
        return live, gone, with_bob, gone_with_bob, by_ids

    driver, sqlalchemy, contexts = await both_ways(runtime, count_statements, read)

    assert driver == sqlalchemy
    (live, named), gone, with_bob, gone_with_bob, found = driver
    assert isinstance(live, UserRecord)
    assert live.role is Role.ADMIN
    assert live.created_at.tzinfo is UTC
    assert named == {}
    assert gone == (None, {})
    assert with_bob[0] == live
    assert list(with_bob[1]) == [bob.id]
    assert isinstance(with_bob[1][bob.id], UserRecord)
    # Another user's session is no session of bob's: bob is read, not admitted.
    assert gone_with_bob == (None, {bob.id: with_bob[1][bob.id]})
    assert [user and user.id for user in found] == [bob.id, None, ann.id, bob.id]
    assert contexts == [None] * 5


async def test_task_pages_read_on_the_driver_are_sqlalchemys_pages(
    runtime: Runtime, session: object, count_statements: Any
) -> None:
    owner = await UserFactory.create_async()
    projects = [await project_with_members(owner) for _ in range(2)]
    for project in projects:
        for n in range(4):
            await TaskFactory.create_async(
                project_id=project.id,
                priority=1 + n,
                is_completed=n == 3,
                due_date=NOW + timedelta(days=n - 2) if n else None,
            )
    parents = [p.id for p in projects]
    pending = TaskListing(TaskFilter(status=TaskStatus.PENDING), TaskOrder(), NOW)
    overdue = TaskListing(TaskFilter(status=TaskStatus.OVERDUE), TaskOrder(), NOW)

    async def read(uow: SqlUnitOfWork) -> Any:
        request = PageRequest(first=2)
        return (
            await task_pages(uow, PROJECT_TASKS, parents, pending, request),
            await task_pages(uow, PROJECT_TASKS, parents[:1], overdue, request),
            await counted_tasks_page(uow, pending, request),
        )

    driver, sqlalchemy, contexts = await both_ways(runtime, count_statements, read)

    assert driver == sqlalchemy
    many, one, (counted, total) = driver
    assert [len(page.rows) for page in many] == [2, 2]
    assert all(isinstance(task, TaskRecord) for page in many for task in page.rows)
    assert [task.priority for task in one[0].rows] == [2]
    assert (len(counted.rows), total) == (2, 4)  # each project's first and third
    assert contexts == [None, None, None]


async def server_pid(drivers: DriverPool) -> int:
    """The backend of the connection the next driver read would run on."""
    held = await drivers.acquire()
    assert held is not None
    drivers.release(held)
    return int(held.connection.get_server_pid())


async def test_a_read_on_a_connection_the_server_dropped_is_answered_all_the_same(
    runtime: Runtime, session: object, count_statements: Any
) -> None:
    user = await UserFactory.create_async()
    drivers = runtime.drivers
    assert drivers is not None
    uow = SqlUnitOfWork(runtime.session_factory, drivers=drivers)
    assert await accounts.users_by_ids(uow, [user.id]) != [None]
    dropped = await server_pid(drivers)
    async with runtime.engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})

    found = await accounts.users_by_ids(uow, [user.id])
    await uow.close()
    replacement = await server_pid(drivers)

    assert [u and u.id for u in found] == [user.id]
    assert replacement != dropped
    assert drivers.open_connections == 1


async def test_a_read_the_driver_refuses_fails_as_sqlalchemys_would(
    runtime: Runtime, session: object, count_statements: Any
) -> None:
    user = await UserFactory.create_async()
    uow = SqlUnitOfWork(runtime.session_factory, drivers=runtime.drivers)

    with count_statements() as log, pytest.raises(DBAPIError):
        await accounts.users_by_ids(uow, [2**40])  # no int4
    found = await accounts.users_by_ids(uow, [user.id])
    await uow.close()

    # Tried on the driver, then run again through SQLAlchemy (an execution context).
    assert len(log.contexts) == 2
    assert log.contexts[0] is None
    assert log.contexts[1] is not None
    assert [u and u.id for u in found] == [user.id]


async def test_a_read_finds_every_driver_connection_busy_and_waits_for_one(
    runtime: Runtime, session: object, count_statements: Any
) -> None:
    user = await UserFactory.create_async()
    drivers = runtime.drivers
    assert drivers is not None
    busy = [await drivers.acquire() for _ in range(runtime.settings.pool.size)]
    uow = SqlUnitOfWork(runtime.session_factory, drivers=drivers)

    with count_statements() as log:
        reading = asyncio.ensure_future(accounts.users_by_ids(uow, [user.id]))
        for _ in range(2):  # turns of the loop: its task, then its statement's
            await asyncio.sleep(0)
        assert drivers.waiting == 1
        for held in busy:
            assert held is not None
            drivers.release(held)
        found = await reading
    await uow.close()

    assert [u and u.id for u in found] == [user.id]
    assert log.contexts == [None]  # on the driver
    assert drivers.open_connections == runtime.settings.pool.size
