"""Access and refresh tokens: rotation, reuse, logout, forgery and expiry."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.models import utcnow
from domain.security import ALGORITHM, AUDIENCE, ISSUER
from graph.runtime import Runtime
from tests.account_operations import LOGOUT, ME, REFRESH, error_of, login
from tests.conftest import SECRET, GraphQLClient, MovableClock
from tests.factories import PASSWORD, UserFactory
from tests.integration.graphql import error_code, gid


@pytest.fixture
async def tokens(gql: GraphQLClient, session: AsyncSession) -> dict[str, Any]:
    user = await UserFactory.create_async(email="ada@example.com")
    await session.commit()
    result = await login(gql, user.email, PASSWORD)
    payload: dict[str, Any] = result["data"]["login"]
    return payload


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return await gql(REFRESH, {"token": token})


async def test_a_refresh_token_buys_a_working_access_token(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    result = await refresh(gql, tokens["refreshToken"])

    renewed = result["data"]["refreshToken"]
    assert renewed["refreshToken"] != tokens["refreshToken"]
    assert renewed["accessToken"] != tokens["accessToken"]
    me = await gql.as_user(renewed["accessToken"])(ME)
    assert me["data"]["me"]["email"] == "ada@example.com"


async def test_a_rotated_refresh_token_is_refused(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    await refresh(gql, tokens["refreshToken"])

    replayed = await refresh(gql, tokens["refreshToken"])

    assert error_of(replayed)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    first = (await refresh(gql, tokens["refreshToken"]))["data"]["refreshToken"]
    second = (await refresh(gql, first["refreshToken"]))["data"]["refreshToken"]

    await refresh(gql, tokens["refreshToken"])

    newest = await refresh(gql, second["refreshToken"])
    me = await gql.as_user(second["accessToken"])(ME)
    assert error_of(newest)["extensions"]["code"] == "UNAUTHENTICATED"
    assert error_of(me)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_reuse_revokes_only_that_family(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    other = (await login(gql, "ada@example.com", PASSWORD))["data"]["login"]
    await refresh(gql, tokens["refreshToken"])

    await refresh(gql, tokens["refreshToken"])

    still = await refresh(gql, other["refreshToken"])
    assert "errors" not in still


async def test_an_unknown_refresh_token_is_unauthenticated(gql: GraphQLClient) -> None:
    result = await refresh(gql, "made-up")

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_refresh_token_is_refused(
    gql: GraphQLClient, tokens: dict[str, Any], clock: MovableClock
) -> None:
    clock.advance(timedelta(days=14, seconds=1))

    result = await refresh(gql, tokens["refreshToken"])

    assert error_of(result)["message"] == "refresh token expired"


async def test_logout_refuses_the_access_token_at_once(
    gql: GraphQLClient, tokens: dict[str, Any], session: AsyncSession
) -> None:
    other = await UserFactory.create_async()
    await session.commit()
    # A user read by id comes in the session check's statement: it must be refused
    # with the check, not answered.
    other_user = f'{{ user(id: "{gid("User", other.id)}") {{ email }} }}'
    viewer = gql.as_user(tokens["accessToken"])
    assert "errors" not in await viewer(ME)
    assert "errors" not in await viewer(other_user)

    result = await gql(LOGOUT, {"token": tokens["refreshToken"]})

    assert result == {"data": {"logout": True}}
    assert error_of(await viewer(ME))["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await viewer(other_user)
    assert refused["data"] == {"user": None}
    assert error_code(refused) == "UNAUTHENTICATED"
    assert other.email not in json.dumps(refused)
    refused = await refresh(gql, tokens["refreshToken"])
    assert error_of(refused)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_ends_only_its_own_session(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    other = (await login(gql, "ada@example.com", PASSWORD))["data"]["login"]

    await gql(LOGOUT, {"token": tokens["refreshToken"]})

    assert "errors" not in await gql.as_user(other["accessToken"])(ME)


async def test_logout_with_an_unknown_token_is_unauthenticated(
    gql: GraphQLClient,
) -> None:
    result = await gql(LOGOUT, {"token": "made-up"})

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_refresh_token_is_not_an_access_token(
    gql: GraphQLClient, tokens: dict[str, Any]
) -> None:
    result = await gql(ME, token=tokens["refreshToken"])

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


def claims_of(access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        access_token, SECRET, algorithms=[ALGORITHM], audience=AUDIENCE
    )
    return claims


async def test_access_tokens_carry_the_required_claims(
    tokens: dict[str, Any],
) -> None:
    claims = claims_of(tokens["accessToken"])

    assert claims.keys() == {"iss", "aud", "sub", "exp", "iat", "jti", "sid", "typ"}
    assert (claims["iss"], claims["typ"]) == (ISSUER, "access")
    assert claims["exp"] - claims["iat"] == 15 * 60


def unsigned(claims: dict[str, Any], alg: str) -> str:
    """A token with no signature under an `alg` spelling PyJWT would not write."""
    header = {"alg": alg, "typ": "JWT"}
    parts = [json.dumps(part).encode() for part in (header, claims)]
    encoded = [base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in parts]
    return ".".join([*encoded, ""])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: jwt.encode(c, "another-key" * 4, "HS256"), id="key"),
        pytest.param(lambda c: jwt.encode(c, None, "none"), id="alg-none"),
        pytest.param(lambda c: unsigned(c, "NoNe"), id="alg-none-mixed-case"),
        pytest.param(lambda c: unsigned(c, "NONE"), id="alg-none-upper-case"),
        pytest.param(lambda c: jwt.encode(c, SECRET * 2, "HS512"), id="alg-hs512"),
        pytest.param(
            lambda c: jwt.encode({**c, "typ": "refresh"}, SECRET, "HS256"),
            id="typ",
        ),
        pytest.param(
            lambda c: jwt.encode({**c, "aud": "elsewhere"}, SECRET, "HS256"),
            id="aud",
        ),
        pytest.param(
            lambda c: jwt.encode({**c, "iss": "elsewhere"}, SECRET, "HS256"),
            id="iss",
        ),
        pytest.param(
            lambda c: jwt.encode({k: v for k, v in c.items() if k != "exp"}, SECRET),
            id="no-exp",
        ),
        pytest.param(
            lambda c: jwt.encode({k: v for k, v in c.items() if k != "sid"}, SECRET),
            id="no-sid",
        ),
    ],
)
async def test_a_forged_access_token_is_refused(
    gql: GraphQLClient, tokens: dict[str, Any], forge: Any
) -> None:
    forged = forge(claims_of(tokens["accessToken"]))

    result = await gql(ME, token=forged)

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_access_token_is_refused(
    gql: GraphQLClient, tokens: dict[str, Any], clock: MovableClock
) -> None:
    clock.advance(timedelta(minutes=16))

    result = await gql(ME, token=tokens["accessToken"])

    assert error_of(result)["message"] == "access token expired"


async def test_a_token_issued_long_ago_is_refused(
    gql: GraphQLClient, runtime: Runtime, tokens: dict[str, Any]
) -> None:
    claims = claims_of(tokens["accessToken"])
    old = runtime.signer.issue(
        int(claims["sub"]), claims["sid"], utcnow() - timedelta(hours=1)
    )

    result = await gql(ME, token=old)

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_deactivated_user_cannot_refresh(
    gql: GraphQLClient, tokens: dict[str, Any], session: AsyncSession
) -> None:
    user = await UserFactory.create_async(email="b@example.com")
    await session.commit()  # end the read snapshot the factory left open
    second = (await login(gql, user.email, PASSWORD))["data"]["login"]
    user.is_active = False
    await session.commit()

    result = await refresh(gql, second["refreshToken"])

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"
