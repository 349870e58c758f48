"""What the process holds for its whole life: settings, engine, token signer, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.models import utcnow
from domain.ports import Clock, TaskEventPublisher
from domain.security import TokenSigner
from domain.task_events import NoTaskEventPublisher
from graph.settings import Settings
from persistence.engine import create_engine, create_session_factory


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    signer: TokenSigner
    clock: Clock = field(default=utcnow)
    # Replaced by the subscriptions' transport; until then events are dropped.
    task_events: TaskEventPublisher = field(default_factory=NoTaskEventPublisher)

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
            clock=clock,
        )

    async def close(self) -> None:
        await self.engine.dispose()
