"""The outbox: mail survives a mail server that is down and a restart, and two
deliverers never send the same message twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import MailOutbox
from graph.app import create_app
from graph.mail import MailDeliverer, RetryPolicy, SmtpTarget, SmtpTransport
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.engine import create_engine
from tests.account_operations import REQUEST_RESET, link_in
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import UserFactory
from tests.mailbox import Mailbox

EMAIL = "ada@example.com"
FIRST_RETRY = RetryPolicy().first_delay


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return replace(settings, smtp_url=mailbox.url)


@pytest.fixture
async def ada(session: AsyncSession) -> None:
    await UserFactory.create_async(email=EMAIL)
    await session.commit()  # end the read snapshot the factory left open


async def outbox(session: AsyncSession) -> list[MailOutbox]:
    await session.commit()  # read what other connections committed since
    query = select(MailOutbox).order_by(MailOutbox.id)
    rows = await session.execute(query.execution_options(populate_existing=True))
    return list(rows.scalars())


@pytest.mark.usefixtures("ada")
async def test_a_mail_server_that_is_down_delays_mail_but_fails_nothing(
    gql: GraphQLClient,
    mailbox: Mailbox,
    runtime: Runtime,
    clock: MovableClock,
    session: AsyncSession,
) -> None:
    result = await gql(REQUEST_RESET, {"email": EMAIL})
    await runtime.mail.settled()
    [waiting] = [(m.attempts, m.sent_at, m.last_error) for m in await outbox(session)]
    mailbox.start()
    clock.advance(FIRST_RETRY)

    await runtime.mail.notify()
    await runtime.mail.settled()

    assert result == {"data": {"requestPasswordReset": True}}
    assert waiting[:2] == (1, None)
    assert "Connection refused" in (waiting[2] or "")
    message = await mailbox.next()
    assert link_in(message)[0].endswith("/reset-password")
    assert mailbox.pending() == 0
    [sent] = await outbox(session)
    assert (sent.attempts, sent.last_error) == (2, None)
    assert sent.sent_at is not None


@pytest.mark.usefixtures("ada")
async def test_a_retry_waits_for_its_backoff(
    gql: GraphQLClient,
    mailbox: Mailbox,
    runtime: Runtime,
    clock: MovableClock,
    session: AsyncSession,
) -> None:
    await gql(REQUEST_RESET, {"email": EMAIL})
    await runtime.mail.settled()
    mailbox.start()
    clock.advance(FIRST_RETRY - timedelta(seconds=1))

    await runtime.mail.notify()
    await runtime.mail.settled()

    [waiting] = await outbox(session)
    assert (waiting.attempts, waiting.sent_at) == (1, None)
    assert mailbox.pending() == 0


@pytest.mark.usefixtures("ada")
async def test_mail_written_before_a_restart_is_sent_after_it(
    gql: GraphQLClient,
    mailbox: Mailbox,
    runtime: Runtime,
    settings: Settings,
    clock: MovableClock,
) -> None:
    await gql(REQUEST_RESET, {"email": EMAIL})
    await runtime.mail.settled()
    await runtime.mail.stop()
    mailbox.start()
    clock.advance(FIRST_RETRY)

    restarted = Runtime.build(settings, clock)
    app = create_app(settings, restarted)
    async with app.router.lifespan_context(app):
        await restarted.mail.settled()

    assert link_in(await mailbox.next())[0].endswith("/reset-password")
    assert mailbox.pending() == 0


async def test_two_deliverers_send_each_message_once(
    mailbox: Mailbox,
    runtime: Runtime,
    settings: Settings,
    session: AsyncSession,
    clock: MovableClock,
) -> None:
    await runtime.mail.stop()
    session.add_all(
        MailOutbox(recipient=f"u{i}@example.com", subject=f"#{i}", body="hello")
        for i in range(12)
    )
    await session.commit()
    mailbox.start()
    transport = SmtpTransport(SmtpTarget.parse(mailbox.url))
    workers = [
        MailDeliverer(
            create_engine(settings.database_url),
            transport,
            clock=clock,
            mail_from=settings.mail_from,
            batch_size=3,
        )
        for _ in range(2)
    ]

    counts = await asyncio.gather(*(worker.deliver_due() for worker in workers))

    for worker in workers:
        await worker.close()
    received = [await mailbox.next() for _ in range(12)]
    assert sum(counts) == 12
    assert sorted(m["Subject"] for m in received) == sorted(f"#{i}" for i in range(12))
    assert len({m["Message-ID"] for m in received}) == 12
    assert mailbox.pending() == 0


# The test server is on loopback; aiosmtpd warns about AUTH without TLS anyway.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
class TestWithSmtpLogin:
    @pytest.fixture
    def settings(self, settings: Settings, mailbox: Mailbox) -> Settings:
        url = f"smtp://mailer:p%40ss@127.0.0.1:{mailbox.port}"
        return replace(settings, smtp_url=url)

    @pytest.mark.usefixtures("ada")
    async def test_logs_in_with_the_credentials_of_the_url(
        self, gql: GraphQLClient, mailbox: Mailbox
    ) -> None:
        mailbox.start(login=("mailer", "p@ss"))

        await gql(REQUEST_RESET, {"email": EMAIL})

        assert (await mailbox.next())["To"] == EMAIL

    @pytest.mark.usefixtures("ada")
    async def test_refused_credentials_keep_the_mail_for_a_retry(
        self,
        gql: GraphQLClient,
        mailbox: Mailbox,
        runtime: Runtime,
        session: AsyncSession,
    ) -> None:
        mailbox.start(login=("mailer", "another password"))

        await gql(REQUEST_RESET, {"email": EMAIL})
        await runtime.mail.settled()

        [waiting] = await outbox(session)
        assert (waiting.attempts, waiting.sent_at) == (1, None)
        assert "535" in (waiting.last_error or "")
        assert mailbox.pending() == 0


class TestWithoutSmtp:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, smtp_url=None)

    @pytest.mark.usefixtures("ada")
    async def test_mail_is_written_to_the_log(
        self,
        gql: GraphQLClient,
        runtime: Runtime,
        session: AsyncSession,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger="trackql.mail")

        await gql(REQUEST_RESET, {"email": EMAIL})
        await runtime.mail.settled()

        assert "/reset-password?token=" in caplog.text
        [sent] = await outbox(session)
        assert sent.sent_at is not None
