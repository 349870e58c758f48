"""Changing users: self-service name and email, admin-only role and activity, and
password changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import MailOutbox, Role, User
from graph.relay import to_global_id
from tests.account_operations import (
    CHANGE_PASSWORD,
    ME,
    REFRESH,
    UPDATE_USER,
    error_of,
    login,
)
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory


async def update(
    gql: GraphQLClient, token: str, user: User, **changes: Any
) -> dict[str, Any]:
    variables = {"id": to_global_id("User", user.id), "input": changes}
    return await gql.as_user(token)(UPDATE_USER, variables)


async def test_a_user_changes_their_own_name(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async(name="Ada")
    token = await token_for(ada)

    result = await update(gql, token, ada, name="  Ada Lovelace ")

    assert result["data"]["updateUser"]["name"] == "Ada Lovelace"
    assert (await gql.as_user(token)(ME))["data"]["me"]["name"] == "Ada Lovelace"


async def test_a_new_email_must_be_verified_again(
    gql: GraphQLClient, token_for: Any, session: AsyncSession
) -> None:
    ada = await UserFactory.create_async(is_verified=True)
    token = await token_for(ada)

    result = await update(gql, token, ada, email="Ada@New.Example.com")

    assert result["data"]["updateUser"]["email"] == "ada@new.example.com"
    assert result["data"]["updateUser"]["isVerified"] is False
    await session.commit()  # see what the request committed
    mail = (await session.execute(select(MailOutbox))).scalar_one()
    assert mail.recipient == "ada@new.example.com"
    assert "/verify-email?token=" in mail.body


async def test_an_email_of_another_user_is_conflict(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()
    bob = await UserFactory.create_async()

    result = await update(gql, await token_for(ada), ada, email=bob.email.upper())

    assert error_of(result)["extensions"]["code"] == "CONFLICT"
    assert "already registered" in error_of(result)["message"]


async def test_a_user_cannot_update_another_user(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()
    bob = await UserFactory.create_async(name="Bob")

    result = await update(gql, await token_for(ada), bob, name="Mallory")

    assert error_of(result)["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("change", [{"role": "ADMIN"}, {"isActive": False}])
async def test_a_user_cannot_change_their_role_or_activity(
    gql: GraphQLClient, token_for: Any, change: dict[str, Any]
) -> None:
    ada = await UserFactory.create_async()

    result = await update(gql, await token_for(ada), ada, **change)

    assert error_of(result)["extensions"]["code"] == "FORBIDDEN"


async def test_restating_an_unchanged_role_is_allowed(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()

    result = await update(gql, await token_for(ada), ada, role="USER", name="A")

    assert result["data"]["updateUser"]["role"] == "USER"


async def test_an_admin_promotes_and_the_new_role_counts_at_once(
    gql: GraphQLClient, token_for: Any
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN)
    ada = await UserFactory.create_async()
    bob = await UserFactory.create_async()
    ada_token = await token_for(ada)

    promoted = await update(gql, await token_for(admin), ada, role="ADMIN")
    ada_renames_bob = await update(gql, ada_token, bob, name="Robert")

    assert promoted["data"]["updateUser"]["role"] == "ADMIN"
    assert ada_renames_bob["data"]["updateUser"]["name"] == "Robert"


async def test_an_admin_deactivates_and_the_users_tokens_stop_at_once(
    gql: GraphQLClient, token_for: Any
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN)
    ada = await UserFactory.create_async()
    ada_token = await token_for(ada)

    result = await update(gql, await token_for(admin), ada, isActive=False)

    assert result["data"]["updateUser"]["isActive"] is False
    assert error_of(await gql.as_user(ada_token)(ME))["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


@pytest.mark.parametrize("field", ["name", "email", "isActive"])
async def test_null_for_a_required_field_is_bad_user_input(
    gql: GraphQLClient, token_for: Any, field: str
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN)

    result = await update(gql, await token_for(admin), admin, **{field: None})

    assert error_of(result)["extensions"]["fields"] == {field: "must not be null"}


async def test_updating_an_unknown_user_is_not_found(
    gql: GraphQLClient, token_for: Any
) -> None:
    admin = await UserFactory.create_async(role=Role.ADMIN)
    missing = User(id=999)

    result = await update(gql, await token_for(admin), missing, name="X")

    assert error_of(result)["message"] == "User 999 not found"
    assert error_of(result)["extensions"]["code"] == "NOT_FOUND"


async def change_password(
    gql: GraphQLClient, token: str, current: str, new: str
) -> dict[str, Any]:
    variables = {"input": {"currentPassword": current, "newPassword": new}}
    return await gql.as_user(token)(CHANGE_PASSWORD, variables)


async def test_changing_the_password_ends_every_session(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    ada = await UserFactory.create_async()
    await session.commit()  # end the read snapshot the factory left open
    first = (await login(gql, ada.email, PASSWORD))["data"]["login"]
    second = (await login(gql, ada.email, PASSWORD))["data"]["login"]

    result = await change_password(
        gql, first["accessToken"], PASSWORD, "a brand new passphrase"
    )

    assert result == {"data": {"changePassword": True}}
    for tokens in (first, second):
        me = await gql.as_user(tokens["accessToken"])(ME)
        refreshed = await gql(REFRESH, {"token": tokens["refreshToken"]})
        assert error_of(me)["extensions"]["code"] == "UNAUTHENTICATED"
        assert error_of(refreshed)["extensions"]["code"] == "UNAUTHENTICATED"
    assert "errors" not in await login(gql, ada.email, "a brand new passphrase")


async def test_a_wrong_current_password_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()
    token = await token_for(ada)

    result = await change_password(gql, token, "not it at all", "a new passphrase")

    assert error_of(result)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"currentPassword": "is incorrect"},
    }
    assert "errors" not in await gql.as_user(token)(ME)


async def test_wrong_current_passwords_count_towards_the_lock(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()
    token = await token_for(ada)
    for _ in range(5):
        await change_password(gql, token, "not it at all", "a new passphrase")

    result = await change_password(gql, token, PASSWORD, "a new passphrase")

    assert error_of(result)["extensions"]["code"] == "ACCOUNT_LOCKED"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "must be at least 8 characters"),
        ("iloveyou", "is one of the most common passwords"),
    ],
)
async def test_a_weak_new_password_is_bad_user_input(
    gql: GraphQLClient, token_for: Any, password: str, reason: str
) -> None:
    ada = await UserFactory.create_async()
    token = await token_for(ada)

    result = await change_password(gql, token, PASSWORD, password)

    assert error_of(result)["extensions"]["fields"] == {"newPassword": reason}
    assert "errors" not in await gql.as_user(token)(ME)


async def test_an_over_long_current_password_is_incorrect(
    gql: GraphQLClient, token_for: Any
) -> None:
    ada = await UserFactory.create_async()
    token = await token_for(ada)

    result = await change_password(gql, token, "x" * 2048, "a new passphrase")

    assert error_of(result)["extensions"]["fields"] == {
        "currentPassword": "is incorrect"
    }
