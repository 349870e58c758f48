"""One savepoint per mutation field: a failing field changes nothing, its siblings
in the same document still commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import LoginThrottle, MailOutbox, Role, User
from tests.conftest import GraphQLClient
from tests.factories import UserFactory

RENAME = 'rename: updateUser(id: "{id}", input: {{name: "Renamed"}}) {{ name }}'
# Sets a name and a new email (which queues a verification mail), then fails.
BROKEN = (
    'broken: updateUser(id: "{id}", input: '
    '{{name: "Half done", email: "new@example.com", isActive: null}}) {{ name }}'
)


async def committed_user(session: AsyncSession, user_id: int) -> User:
    await session.commit()  # see what the request committed
    query = select(User).where(User.id == user_id)
    user: User = (
        await session.execute(query.execution_options(populate_existing=True))
    ).scalar_one()
    return user


async def outbox_size(session: AsyncSession) -> int:
    count = await session.execute(select(func.count()).select_from(MailOutbox))
    return int(count.scalar_one())


def document(*fields: str, user: User) -> str:
    return "mutation { " + " ".join(f.format(id=user.id) for f in fields) + " }"


async def test_a_failing_field_rolls_back_alone(
    gql: GraphQLClient, token_for: Any, session: AsyncSession
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN, name="Before")
    token = await token_for(admin)

    result = await gql.as_user(token)(document(RENAME, BROKEN, user=admin))

    assert [e["path"] for e in result["errors"]] == [["broken"]]
    user = await committed_user(session, admin.id)
    assert user.name == "Renamed"
    assert user.email != "new@example.com"
    assert await outbox_size(session) == 0


async def test_fields_after_a_failed_non_null_field_do_not_run(
    gql: GraphQLClient, token_for: Any, session: AsyncSession
) -> None:
    # Serial execution stops once a non-null field's error nulls `data`.
    admin = await UserFactory.create_async(role=Role.ADMIN, name="Before")
    token = await token_for(admin)

    result = await gql.as_user(token)(document(BROKEN, RENAME, user=admin))

    assert result["data"] is None
    assert [e["path"] for e in result["errors"]] == [["broken"]]
    user = await committed_user(session, admin.id)
    assert (user.name, user.email) == ("Before", admin.email)
    assert await outbox_size(session) == 0


async def test_a_failed_login_keeps_its_count_though_its_field_fails(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    login = 'mutation { login(input: {email: "x@example.com", password: "wrong!!"}) {'

    result = await gql(login + " accessToken } }")

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await session.commit()
    throttle = (await session.execute(select(LoginThrottle))).scalar_one()
    assert throttle.failed_attempts == 1
