"""The request's unit of work survives what graphql-core does to resolvers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select, text

from domain.models import User
from graph.runtime import Runtime
from persistence.engine import WriterTurns, writer_turns
from persistence.uow import SqlUnitOfWork
from tests.factories import UserFactory

SLOW = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)"
    " SELECT count(*) FROM c"
)


async def test_a_cancelled_statement_does_not_break_the_transaction(
    runtime: Runtime, session: object
) -> None:
    user = await UserFactory.create_async()
    uow = SqlUnitOfWork(runtime.session_factory, writes=True)
    in_flight = asyncio.Event()
    loop = asyncio.get_running_loop()

    def record(_conn: Any, _cursor: Any, statement: str, *rest: Any) -> None:
        if "RECURSIVE" in statement:
            loop.call_soon_threadsafe(in_flight.set)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    slow = asyncio.create_task(uow.execute(SLOW))
    await in_flight.wait()
    slow.cancel()

    renamed = await uow.get(User, user.id)
    assert renamed is not None
    renamed.name = "Renamed after a cancellation"
    await uow.commit()
    await uow.close()

    async with runtime.session_factory() as check:
        stored = await check.scalar(select(User.name).where(User.id == user.id))
    assert stored == "Renamed after a cancellation"
    assert slow.cancelled()


async def test_rows_run_in_the_unit_of_works_transaction(
    runtime: Runtime, session: object
) -> None:
    user = await UserFactory.create_async()
    uow = SqlUnitOfWork(runtime.session_factory, writes=True)
    loaded = await uow.get(User, user.id)
    assert loaded is not None
    loaded.name = "Flushed, never committed"
    await uow.flush()
    name = select(User.name).where(User.id == user.id)
    assert (await uow.rows(name)).scalar_one() == "Flushed, never committed"
    await uow.close()

    async with runtime.session_factory() as check:
        assert await check.scalar(name) == user.name


async def test_rows_of_a_reading_unit_of_work_share_its_transaction(
    runtime: Runtime, session: object
) -> None:
    first, second = await UserFactory.create_batch_async(2)
    uow = SqlUnitOfWork(runtime.session_factory)
    names = select(User.name).where(User.id.in_([first.id, second.id]))
    orm_user = await uow.get(User, first.id)
    core_names = (await uow.rows(names.order_by(User.id))).scalars().all()
    await uow.close()
    assert orm_user is not None
    assert core_names == [first.name, second.name]
    # A closed unit of work opens a new transaction on its next statement.
    again = (await uow.rows(names.order_by(User.id))).scalars().all()
    await uow.close()
    assert again == core_names


async def test_sqlite_writers_wait_their_turn_in_order_holding_no_connection(
    runtime: Runtime, is_postgres: bool
) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL has no single writer: its writers queue by row")
    turns = writer_turns(runtime.engine)
    assert turns is not None
    first = SqlUnitOfWork(runtime.session_factory, writes=True)
    await first.execute(text("SELECT 1"))
    order: list[str] = []

    async def write(name: str) -> None:
        uow = SqlUnitOfWork(runtime.session_factory, writes=True)
        await uow.execute(text("SELECT 1"))
        order.append(name)
        await uow.commit()
        await uow.close()

    second = asyncio.ensure_future(write("second"))
    await waiting_writers(turns, 1)
    third = asyncio.ensure_future(write("third"))
    await waiting_writers(turns, 2)
    held = runtime.engine.pool.checkedout()
    await first.commit()
    await first.close()
    await asyncio.gather(second, third)

    assert held == 1
    assert order == ["second", "third"]


async def waiting_writers(turns: WriterTurns, count: int) -> None:
    async with asyncio.timeout(10):
        while turns.waiting < count:  # noqa: ASYNC110 - a counter, no event to wait on
            await asyncio.sleep(0)
