"""Account repositories where the API cannot reach: races the checks don't see."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict
from domain.models import Role, User, utcnow
from graph.runtime import Runtime
from persistence.uow import SqlUnitOfWork
from tests.factories import PASSWORD_HASH, UserFactory


def new_user(email: str) -> User:
    now = utcnow()
    return User(
        email=email,
        name="Racer",
        password_hash=PASSWORD_HASH,
        role=Role.USER,
        is_active=True,
        is_verified=False,
        created_at=now,
        updated_at=now,
    )


async def test_an_email_taken_after_the_check_is_conflict_and_the_transaction_lives(
    runtime: Runtime, session: AsyncSession
) -> None:
    taken = await UserFactory.create_async(email="ada@example.com")
    await session.commit()
    uow = SqlUnitOfWork(runtime.session_factory, writes=True)

    with pytest.raises(Conflict, match="already registered"):
        await uow.users.add(new_user("ADA@example.com"))

    await uow.users.add(new_user("grace@example.com"))
    await uow.commit()
    await uow.close()
    await session.commit()
    emails = (await session.execute(select(User.email).order_by(User.id))).scalars()
    assert list(emails) == [taken.email, "grace@example.com"]
