"""Password reset and email verification, through a real local SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import User
from graph.runtime import Runtime
from graph.settings import Settings
from tests.account_operations import (
    ME,
    REFRESH,
    REQUEST_RESET,
    REQUEST_VERIFICATION,
    RESET,
    UPDATE_USER,
    VERIFY_EMAIL,
    error_of,
    link_in,
    login,
    register,
)
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import PASSWORD, UserFactory
from tests.mailbox import Mailbox

EMAIL = "ada@example.com"
NEW_PASSWORD = "a brand new passphrase"
PUBLIC_URL = "https://tracker.example.test"


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    mailbox.start()
    return replace(settings, smtp_url=mailbox.url, public_url=PUBLIC_URL)


@pytest.fixture
async def ada(session: AsyncSession) -> User:
    user = await UserFactory.create_async(email=EMAIL)
    await session.commit()  # end the read snapshot the factory left open
    return user


async def request_reset(
    gql: GraphQLClient, mailbox: Mailbox, email: str = EMAIL
) -> str:
    """Ask for a reset and read the token from the mail that arrives."""
    result = await gql(REQUEST_RESET, {"email": email})
    assert result == {"data": {"requestPasswordReset": True}}
    message = await mailbox.next()
    address, token = link_in(message)
    assert message["To"] == EMAIL
    assert address == f"{PUBLIC_URL}/reset-password"
    return token


async def reset(gql: GraphQLClient, token: str, password: str) -> dict[str, Any]:
    return await gql(RESET, {"input": {"token": token, "newPassword": password}})


@pytest.mark.usefixtures("ada")
async def test_resets_the_password_with_the_mailed_link(
    gql: GraphQLClient, mailbox: Mailbox
) -> None:
    before = (await login(gql, EMAIL, PASSWORD))["data"]["login"]
    token = await request_reset(gql, mailbox)

    result = await reset(gql, token, NEW_PASSWORD)

    assert result == {"data": {"resetPassword": True}}
    assert "errors" not in await login(gql, EMAIL, NEW_PASSWORD)
    old = await login(gql, EMAIL, PASSWORD)
    assert error_of(old)["message"] == "invalid email or password"
    refreshed = await gql(REFRESH, {"token": before["refreshToken"]})
    assert error_of(refreshed)["extensions"]["code"] == "UNAUTHENTICATED"
    me = await gql.as_user(before["accessToken"])(ME)
    assert error_of(me)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.usefixtures("ada")
async def test_a_reset_token_works_once(gql: GraphQLClient, mailbox: Mailbox) -> None:
    token = await request_reset(gql, mailbox)
    await reset(gql, token, NEW_PASSWORD)

    again = await reset(gql, token, "yet another passphrase")

    assert error_of(again)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"token": "is invalid or expired"},
    }
    assert "errors" not in await login(gql, EMAIL, NEW_PASSWORD)


@pytest.mark.usefixtures("ada")
async def test_an_expired_reset_token_changes_nothing(
    gql: GraphQLClient, mailbox: Mailbox, clock: MovableClock
) -> None:
    token = await request_reset(gql, mailbox)
    clock.advance(timedelta(minutes=30))

    result = await reset(gql, token, NEW_PASSWORD)

    assert error_of(result)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "errors" not in await login(gql, EMAIL, PASSWORD)


@pytest.mark.usefixtures("ada")
async def test_an_unknown_reset_token_is_bad_user_input(gql: GraphQLClient) -> None:
    result = await reset(gql, "made-up-token", NEW_PASSWORD)

    assert error_of(result)["extensions"]["fields"] == {
        "token": "is invalid or expired"
    }


@pytest.mark.usefixtures("ada")
async def test_a_newer_request_voids_older_tokens(
    gql: GraphQLClient, mailbox: Mailbox
) -> None:
    older = await request_reset(gql, mailbox)
    newer = await request_reset(gql, mailbox)

    voided = await reset(gql, older, NEW_PASSWORD)
    accepted = await reset(gql, newer, NEW_PASSWORD)

    assert error_of(voided)["extensions"]["code"] == "BAD_USER_INPUT"
    assert accepted == {"data": {"resetPassword": True}}


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "must be at least 8 characters"),
        ("Password1", "is one of the most common passwords"),
    ],
)
async def test_a_weak_new_password_keeps_the_token(
    gql: GraphQLClient, mailbox: Mailbox, password: str, reason: str
) -> None:
    token = await request_reset(gql, mailbox)

    weak = await reset(gql, token, password)
    strong = await reset(gql, token, NEW_PASSWORD)

    assert error_of(weak)["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"newPassword": reason},
    }
    assert strong == {"data": {"resetPassword": True}}


async def test_an_unknown_email_gets_true_and_no_mail(
    gql: GraphQLClient, mailbox: Mailbox, runtime: Runtime
) -> None:
    result = await gql(REQUEST_RESET, {"email": "nobody@example.com"})
    await runtime.mail.settled()

    assert result == {"data": {"requestPasswordReset": True}}
    assert mailbox.pending() == 0


@pytest.mark.usefixtures("ada")
async def test_a_completed_reset_lifts_a_lock(
    gql: GraphQLClient, mailbox: Mailbox
) -> None:
    for _ in range(5):
        await login(gql, EMAIL, "not the password")
    token = await request_reset(gql, mailbox)

    await reset(gql, token, NEW_PASSWORD)

    assert "errors" not in await login(gql, EMAIL, NEW_PASSWORD)


async def test_changing_the_email_voids_a_pending_reset(
    gql: GraphQLClient, mailbox: Mailbox, ada: User
) -> None:
    token = await request_reset(gql, mailbox)
    access = (await login(gql, EMAIL, PASSWORD))["data"]["login"]["accessToken"]
    variables = {"id": str(ada.id), "input": {"email": "ada@elsewhere.example"}}
    await gql.as_user(access)(UPDATE_USER, variables)

    result = await reset(gql, token, NEW_PASSWORD)

    assert error_of(result)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_registration_mails_a_verification_link(
    gql: GraphQLClient, mailbox: Mailbox
) -> None:
    registered = await register(gql, "grace@example.com", "a long passphrase")
    viewer = gql.as_user(registered["data"]["register"]["accessToken"])
    address, token = link_in(await mailbox.next())

    verified = await gql(VERIFY_EMAIL, {"token": token})

    assert address == f"{PUBLIC_URL}/verify-email"
    assert verified == {"data": {"verifyEmail": {"isVerified": True}}}
    assert (await viewer(ME))["data"]["me"]["isVerified"] is True
    again = await gql(VERIFY_EMAIL, {"token": token})
    assert error_of(again)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_new_verification_mail_voids_the_first(
    gql: GraphQLClient, mailbox: Mailbox
) -> None:
    registered = await register(gql, "grace@example.com", "a long passphrase")
    viewer = gql.as_user(registered["data"]["register"]["accessToken"])
    _, first = link_in(await mailbox.next())

    requested = await viewer(REQUEST_VERIFICATION)
    _, second = link_in(await mailbox.next())

    assert requested == {"data": {"requestEmailVerification": True}}
    assert "errors" in await gql(VERIFY_EMAIL, {"token": first})
    assert "errors" not in await gql(VERIFY_EMAIL, {"token": second})
