"""Register, log in, and who am I."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import User
from graph.schema import build_schema
from tests.account_operations import ME, error_of, login, register
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, UserFactory

SECRET_WORDS = ("password", "hash")


async def test_registers_a_user_and_answers_with_tokens(gql: GraphQLClient) -> None:
    result = await register(gql, "  Ada@Example.COM ", "a long passphrase", "Ada")

    payload = result["data"]["register"]
    assert payload["tokenType"] == "bearer"
    assert payload["expiresIn"] == 15 * 60
    assert payload["user"]["email"] == "ada@example.com"
    me = await gql.as_user(payload["accessToken"])(ME)
    assert me["data"]["me"]["email"] == "ada@example.com"
    assert me["data"]["me"]["role"] == "USER"
    assert me["data"]["me"]["isVerified"] is False


async def test_no_response_carries_a_password_or_its_hash(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    result = await register(gql, "ada@example.com", "a long passphrase")
    stored_hash = (await session.execute(select(User.password_hash))).scalar_one()

    text = json.dumps(result)

    assert "a long passphrase" not in text
    assert stored_hash not in text
    assert "$argon2" not in text


def test_the_schema_has_no_password_or_hash_output_field() -> None:
    schema = build_schema()._schema

    exposed = [
        f"{type_name}.{field_name}"
        for type_name, graphql_type in schema.type_map.items()
        # Output types; Mutation's fields are operations such as resetPassword.
        if not type_name.startswith("__") and type_name != "Mutation"
        if hasattr(graphql_type, "interfaces")
        for field_name in graphql_type.fields
        if any(word in field_name.lower() for word in SECRET_WORDS)
    ]

    assert exposed == []


async def test_a_registered_email_in_any_case_is_conflict(gql: GraphQLClient) -> None:
    await register(gql, "ada@example.com", "a long passphrase")

    again = await register(gql, " ADA@example.com", "another passphrase")

    error = error_of(again)
    assert error["extensions"]["code"] == "CONFLICT"
    assert "already registered" in error["message"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "must be at least 8 characters"),
        ("x" * 129, "must be at most 128 characters"),
        ("x" * 1025, "must be at most 128 characters"),
        (" " * 12, "must not be only whitespace"),
        ("password1", "is one of the most common passwords"),
        ("QwertyUIOP", "is one of the most common passwords"),
    ],
)
async def test_a_weak_password_is_bad_user_input(
    gql: GraphQLClient, session: AsyncSession, password: str, reason: str
) -> None:
    result = await register(gql, "ada@example.com", password)

    error = error_of(result)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"password": reason},
    }
    assert reason in error["message"]
    assert (await session.execute(select(func.count()).select_from(User))).scalar() == 0


@pytest.mark.parametrize(
    ("email", "name", "field"),
    [
        ("not-an-email", "Ada", "email"),
        ("ada@example", "Ada", "email"),
        ("ada@example.com", "   ", "name"),
        ("a" * 2048 + "@example.com", "Ada", "email"),
        ("ada@example.com", "A" * 2048, "name"),
    ],
)
async def test_an_invalid_email_or_name_is_bad_user_input(
    gql: GraphQLClient, email: str, name: str, field: str
) -> None:
    result = await register(gql, email, "a long passphrase", name)

    assert error_of(result)["extensions"]["fields"].keys() == {field}


async def test_register_then_login_then_me(gql: GraphQLClient) -> None:
    await register(gql, "grace@example.com", "a long passphrase", "Grace")

    logged_in = await login(gql, "Grace@Example.com ", "a long passphrase")
    me = await gql.as_user(logged_in["data"]["login"]["accessToken"])(ME)

    assert logged_in["data"]["login"]["user"]["name"] == "Grace"
    assert me["data"]["me"]["email"] == "grace@example.com"


@pytest.mark.parametrize("email", ["known@example.com", "nobody@example.com"])
async def test_a_wrong_password_or_unknown_email_gives_the_same_answer(
    gql: GraphQLClient, session: AsyncSession, email: str
) -> None:
    await UserFactory.create_async(email="known@example.com")

    result = await login(gql, email, "wrong password")

    assert result["data"] is None
    assert error_of(result)["message"] == "invalid email or password"
    assert error_of(result)["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_a_deactivated_user_cannot_log_in(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await UserFactory.create_async(email="gone@example.com", is_active=False)

    result = await login(gql, "gone@example.com", PASSWORD)

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_me_needs_a_valid_access_token(gql: GraphQLClient) -> None:
    anonymous = await gql(ME)
    forged = await gql(ME, token="eyJhbGciOiJIUzI1NiJ9.e30.forged")

    assert error_of(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"
    assert error_of(forged)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_login_upgrades_a_hash_made_with_older_parameters(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    user = await UserFactory.create_async(password_hash=weak.hash(PASSWORD))

    result = await login(gql, user.email, PASSWORD)

    assert "errors" not in result
    await session.commit()  # end the read snapshot the factory left open
    await session.refresh(user)
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


async def test_every_account_operation_but_the_public_ones_needs_a_user(
    gql: GraphQLClient, token_for: Any
) -> None:
    target = await UserFactory.create_async()
    documents = [
        "{ me { id } }",
        "{ users { totalCount } }",
        f'{{ user(id: "{target.id}") {{ id }} }}',
        f'{{ node(id: "{target.id}") {{ id }} }}',
        'mutation { changePassword(input: {currentPassword: "a", newPassword: "b"}) }',
        "mutation { requestEmailVerification }",
        f'mutation {{ updateUser(id: "{target.id}", input: {{name: "X"}}) {{ id }} }}',
    ]

    results = [await gql(document) for document in documents]

    codes = [error_of(r)["extensions"]["code"] for r in results]
    assert codes == ["UNAUTHENTICATED"] * len(documents)
