"""SQL for rate-limit counters: one atomic upsert per hit, a read without one, and
pruning by age."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Executable, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from domain.models import RateLimitCounter

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork


class RateLimitCounterRepository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def hit(self, bucket: str, window_start: datetime) -> int:
        # INSERT ... ON CONFLICT DO UPDATE ... RETURNING is one statement on both
        # backends: PostgreSQL takes the row lock and adds to the committed count,
        # SQLite has one writer, so concurrent hits never read the same count.
        statement = _upsert(self._uow.dialect_name(), bucket, window_start)
        hits = (await self._uow.execute(statement)).scalar_one()
        self._uow.replay_on_rollback(statement)
        return int(hits)

    async def hits(self, bucket: str, window_start: datetime) -> int:
        found = await self._uow.rows(
            select(RateLimitCounter.hits).where(
                RateLimitCounter.bucket == bucket,
                RateLimitCounter.window_start == window_start,
            )
        )
        return int(found.scalar_one_or_none() or 0)

    async def prune(self, before: datetime) -> int:
        result = await self._uow.execute(
            delete(RateLimitCounter).where(RateLimitCounter.window_start < before)
        )
        return int(getattr(result, "rowcount", 0))


def _upsert(dialect: str, bucket: str, window_start: datetime) -> Executable:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateLimitCounter).values(
        bucket=bucket, window_start=window_start, hits=1
    )
    return statement.on_conflict_do_update(
        index_elements=[RateLimitCounter.bucket, RateLimitCounter.window_start],
        set_={"hits": RateLimitCounter.hits + 1},
    ).returning(RateLimitCounter.hits)
