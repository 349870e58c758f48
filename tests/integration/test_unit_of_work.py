"""The request's unit of work survives what graphql-core does to resolvers."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select, text

from domain.models import User
from graph.runtime import Runtime
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
