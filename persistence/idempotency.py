"""SQL for idempotency keys: one row per (user, key), forgotten after the TTL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from domain.errors import Conflict
from domain.models import IdempotencyKey

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork


class IdempotencyStore:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    async def find(
        self, user_id: int, key: str, not_before: datetime
    ) -> IdempotencyKey | None:
        query = select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
        found = (await self._uow.execute(query)).scalar_one_or_none()
        if found is None or found.created_at >= not_before:
            return found
        # Expired: forget every expired key (an indexed range), this one included.
        await self._uow.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < not_before)
        )
        return None

    async def remember(self, record: IdempotencyKey) -> None:
        self._uow.add(record)
        try:
            await self._uow.flush()
        except IntegrityError as exc:
            # A concurrent request with the same key committed first.
            raise Conflict(
                "a request with this idempotency key is in progress"
            ) from exc
