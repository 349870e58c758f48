"""What the process holds for its whole life: settings, engine, token signer, clock,
account policy, the mail deliverer, the event bus, housekeeping and the open
WebSockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.credentials import AccountPolicy
from domain.models import utcnow
from domain.ports import Clock, TaskEventPublisher
from domain.security import TokenSigner
from graph.housekeeping import Housekeeping
from graph.mail import MailDeliverer, transport_for
from graph.settings import Settings
from graph.sockets import SocketRegistry
from persistence.driver_pool import DriverPool
from persistence.engine import (
    PoolOptions,
    create_driver_pool,
    create_engine,
    create_session_factory,
)
from persistence.events import EventBus, create_event_bus
from persistence.task_events import BusTaskEventPublisher

# The deliverer sends one message at a time; its own small pool keeps it from
# competing with requests for connections (and out of their statement counts).
MAIL_POOL = PoolOptions(size=1, overflow=1)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    # The connections of PostgreSQL's driver reads; None on SQLite.
    drivers: DriverPool | None
    signer: TokenSigner
    accounts: AccountPolicy
    mail: MailDeliverer
    events: EventBus
    sockets: SocketRegistry
    task_events: TaskEventPublisher
    housekeeping: Housekeeping
    clock: Clock = field(default=utcnow)

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utcnow) -> Runtime:
        engine = create_engine(settings.database_url, settings.pool)
        signer = TokenSigner(
            secret_key=settings.secret_key,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
        )
        session_factory = create_session_factory(engine)
        # Started and stopped by the app's lifespan.
        events = create_event_bus(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            drivers=create_driver_pool(settings.database_url, settings.pool),
            signer=signer,
            accounts=account_policy(settings, signer),
            mail=MailDeliverer(
                create_engine(settings.database_url, MAIL_POOL),
                transport_for(settings.smtp_url),
                clock=clock,
                mail_from=settings.mail_from,
            ),
            events=events,
            task_events=BusTaskEventPublisher(events),
            sockets=SocketRegistry(settings.max_subscriptions_per_user),
            housekeeping=Housekeeping(
                session_factory, clock=clock, limits=settings.rate_limits
            ),
            clock=clock,
        )

    async def close(self) -> None:
        await self.housekeeping.stop()
        await self.mail.close()
        await self.events.close()
        if self.drivers is not None:
            await self.drivers.close()
        await self.engine.dispose()


def account_policy(settings: Settings, signer: TokenSigner) -> AccountPolicy:
    return AccountPolicy(
        signer=signer,
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        reset_ttl=timedelta(minutes=settings.reset_token_minutes),
        verification_ttl=timedelta(hours=settings.verification_token_hours),
        lockout_attempts=settings.lockout_attempts,
        lockout_duration=timedelta(minutes=settings.lockout_minutes),
        rate_limits=settings.rate_limits,
        public_url=settings.public_url,
    )
