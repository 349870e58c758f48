"""What the process holds for its whole life: settings, engine, token signer, clock,
the event bus and the open WebSockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.models import utcnow
from domain.ports import Clock
from domain.security import TokenSigner
from graph.settings import Settings
from graph.sockets import SocketRegistry
from persistence.engine import create_engine, create_session_factory
from persistence.events import EventBus, create_event_bus


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    signer: TokenSigner
    events: EventBus
    sockets: SocketRegistry
    clock: Clock = field(default=utcnow)

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utcnow) -> Runtime:
        engine = create_engine(settings.database_url, settings.pool)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            signer=TokenSigner(
                secret_key=settings.secret_key,
                access_ttl=timedelta(minutes=settings.access_token_minutes),
            ),
            # Started and stopped by the app's lifespan.
            events=create_event_bus(settings.database_url),
            sockets=SocketRegistry(settings.max_subscriptions_per_user),
            clock=clock,
        )

    async def close(self) -> None:
        await self.events.close()
        await self.engine.dispose()
