"""SQL for the mail outbox: writing mail in the caller's transaction, and claiming,
completing and rescheduling it for the deliverer.

A claim is a lease: the claimed rows' next attempt moves past the lease, in a short
transaction of its own, so no lock is held while the mail server is talked to and a
deliverer that dies mid-way only delays its rows. On PostgreSQL the claim skips rows
another worker is claiming at that moment (FOR UPDATE SKIP LOCKED); SQLite's write
lock serialises claims of the one process that may use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, select, update

from domain.models import MailOutbox

if TYPE_CHECKING:
    from persistence.uow import SqlUnitOfWork

Notify = Callable[[], Awaitable[None]]
ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class PendingMail:
    id: int
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime


class OutboxRepository:
    def __init__(self, uow: SqlUnitOfWork, notify: Notify | None = None) -> None:
        self._uow = uow
        self._notify = notify

    def enqueue(self, to: str, subject: str, body: str) -> None:
        self._uow.add(MailOutbox(recipient=to, subject=subject, body=body))
        if self._notify is not None:
            self._uow.after_commit(self._notify)


def _due(now: datetime) -> Select[int]:
    return select(MailOutbox.id).where(
        MailOutbox.sent_at.is_(None), MailOutbox.next_attempt_at <= now
    )


async def any_due(uow: SqlUnitOfWork, now: datetime) -> bool:
    """A read, so that an idle poll never takes SQLite's write lock."""
    return (await uow.execute(_due(now).limit(1))).first() is not None


async def claim_due(
    uow: SqlUnitOfWork, now: datetime, lease_until: datetime, limit: int
) -> list[PendingMail]:
    due = (
        _due(now)
        .order_by(MailOutbox.next_attempt_at, MailOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(MailOutbox)
        .where(MailOutbox.id.in_(due.scalar_subquery()))
        .values(attempts=MailOutbox.attempts + 1, next_attempt_at=lease_until)
        .returning(
            MailOutbox.id,
            MailOutbox.recipient,
            MailOutbox.subject,
            MailOutbox.body,
            MailOutbox.attempts,
            MailOutbox.created_at,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await uow.execute(claim)).all()
    claimed = [PendingMail(**row._asdict()) for row in rows]
    return sorted(claimed, key=lambda mail: mail.id)


async def mark_sent(uow: SqlUnitOfWork, mail_id: int, now: datetime) -> None:
    await uow.execute(
        update(MailOutbox)
        .where(MailOutbox.id == mail_id)
        .values(sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )


async def reschedule(
    uow: SqlUnitOfWork, mail_id: int, next_attempt_at: datetime, error: str
) -> None:
    await uow.execute(
        update(MailOutbox)
        .where(MailOutbox.id == mail_id)
        .values(next_attempt_at=next_attempt_at, last_error=error[:ERROR_MAX])
        .execution_options(synchronize_session=False)
    )
