"""Mail delivery: a background deliverer that empties the outbox after each commit
and on a timer, retrying with exponential backoff, over SMTP or into the log.

SMTP goes through the standard library's smtplib in a worker thread: the deliverer
sends one message at a time from a single background task, so a thread costs
nothing, and smtplib brings SMTPS, STARTTLS and AUTH without another dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.ports import Clock
from persistence import outbox
from persistence.background import cancel_and_wait
from persistence.uow import SqlUnitOfWork

log = logging.getLogger("trackql.mail")
SMTP_TIMEOUT_SECONDS = 30.0
Security = Literal["none", "starttls", "tls"]
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("none", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where mail goes: `smtp://user:pass@host:port` (plain), `smtp+starttls://`
    or `smtps://` (TLS from the first byte)."""

    host: str
    port: int
    security: Security = "none"
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(_SCHEMES)}")
        if not parts.hostname:
            raise ValueError("a host is required")
        security, default_port = _SCHEMES[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    def __init__(self, target: SmtpTarget) -> None:
        self._target = target

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        target = self._target
        context = ssl.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(
                target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
            if target.security == "tls"
            else smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
        )
        with smtp:
            if target.security == "starttls":
                smtp.starttls(context=context)
            if target.username is not None:
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)


class LogTransport:
    """With no SMTP server configured, mail is written to the log instead."""

    async def send(self, message: EmailMessage) -> None:
        log.info(
            "mail to %s (no TRACKQL_SMTP_URL, not sent)\nSubject: %s\n\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )


def transport_for(smtp_url: str | None) -> Transport:
    return (
        LogTransport()
        if smtp_url is None
        else SmtpTransport(SmtpTarget.parse(smtp_url))
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    # Longer than any send can take (SMTP_TIMEOUT_SECONDS per step), so a claimed
    # message is never sent by a second worker while the first is still trying.
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        doubled: timedelta = self.first_delay * 2 ** max(0, attempts - 1)
        return min(doubled, self.max_delay)


class MailDeliverer:
    """Sends what the outbox holds. Woken after each commit that wrote mail, and
    every `poll_seconds` for retries and for mail written by other workers."""

    def __init__(
        self,
        engine: AsyncEngine,
        transport: Transport,
        *,
        clock: Clock,
        mail_from: str,
        retry: RetryPolicy | None = None,
        poll_seconds: float = 30.0,
        batch_size: int = 20,
    ) -> None:
        self._engine = engine
        self._sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False, autoflush=False
        )
        self._transport = transport
        self._clock = clock
        self._mail_from = mail_from
        self._retry = retry or RetryPolicy()
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()

    def start(self) -> None:
        if isinstance(self._transport, LogTransport):
            log.warning("TRACKQL_SMTP_URL is not set: mail goes to the log, unsent")
        if self._task is None:
            self._wake.set()  # deliver what an earlier run left behind
            self._idle.clear()
            self._task = asyncio.create_task(self._run(), name="trackql-mail")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._idle.set()

    async def close(self) -> None:
        await self.stop()
        await self._engine.dispose()

    async def notify(self) -> None:
        if self._task is not None:
            self._idle.clear()
            self._wake.set()

    async def settled(self) -> None:
        """Return once every wake-up so far has been served (or, when the
        deliverer is not running, after one pass in the caller's task)."""
        if self._task is None:
            await self.deliver_due()
        else:
            await self._idle.wait()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:
                # This task's boundary: a database outage must not end delivery for
                # the life of the process; the next wake-up or poll tries again.
                log.exception("mail delivery pass failed")
            if not self._wake.is_set():
                self._idle.set()

    async def deliver_due(self) -> int:
        """Claim and send due mail until none is left; the number sent."""
        sent = 0
        while True:
            batch = await self._claim()
            for mail in batch:
                sent += await self._deliver(mail)
            if len(batch) < self._batch_size:
                return sent

    async def _claim(self) -> list[outbox.PendingMail]:
        now = self._clock()
        async with self._unit_of_work(writes=False) as uow:
            if not await outbox.any_due(uow, now):
                return []
        async with self._unit_of_work() as uow:
            claimed = await outbox.claim_due(
                uow, now, now + self._retry.lease, self._batch_size
            )
            await uow.commit()
        return claimed

    async def _deliver(self, mail: outbox.PendingMail) -> int:
        try:
            await self._transport.send(self._message(mail))
        except (smtplib.SMTPException, OSError) as exc:
            delay = self._retry.delay(mail.attempts)
            log.warning(
                "mail %s to %s failed (attempt %s, next in %s): %r",
                mail.id,
                mail.recipient,
                mail.attempts,
                delay,
                exc,
            )
            async with self._unit_of_work() as uow:
                await outbox.reschedule(uow, mail.id, self._clock() + delay, repr(exc))
                await uow.commit()
            return 0
        async with self._unit_of_work() as uow:
            await outbox.mark_sent(uow, mail.id, self._clock())
            await uow.commit()
        return 1

    @contextlib.asynccontextmanager
    async def _unit_of_work(
        self, *, writes: bool = True
    ) -> AsyncIterator[SqlUnitOfWork]:
        uow = SqlUnitOfWork(self._sessions, writes=writes)
        try:
            yield uow
        finally:
            await uow.close()

    def _message(self, mail: outbox.PendingMail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._mail_from
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(mail.created_at)
        # Stable per outbox row: a receiver can drop the duplicate that a crash
        # between "accepted by the server" and "marked sent" would cause.
        message["Message-ID"] = (
            f"<outbox.{mail.id}.{mail.created_at:%Y%m%d%H%M%S%f}@trackql>"
        )
        message.set_content(mail.body)
        return message
