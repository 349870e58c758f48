"""GraphQL documents of the account life, shared by the account tests."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from tests.conftest import GraphQLClient

AUTH_FIELDS = "accessToken refreshToken tokenType expiresIn user { id email name }"
REGISTER = f"""
mutation ($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}
"""
LOGIN = f"""
mutation ($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}
"""
REFRESH = f"""
mutation ($token: String!) {{ refreshToken(refreshToken: $token) {{ {AUTH_FIELDS} }} }}
"""
LOGOUT = "mutation ($token: String!) { logout(refreshToken: $token) }"
ME = "{ me { id email name role isActive isVerified } }"
REQUEST_RESET = "mutation ($email: String!) { requestPasswordReset(email: $email) }"
RESET = "mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) }"
CHANGE_PASSWORD = (
    "mutation ($input: ChangePasswordInput!) { changePassword(input: $input) }"
)
VERIFY_EMAIL = (
    "mutation ($token: String!) { verifyEmail(token: $token) { isVerified } }"
)
REQUEST_VERIFICATION = "mutation { requestEmailVerification }"
UPDATE_USER = """
mutation ($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id email name role isActive isVerified }
}
"""
_TOKEN_LINK = re.compile(r"(https?://\S+)\?token=([A-Za-z0-9_-]+)")


async def register(
    gql: GraphQLClient, email: str, password: str, name: str = "Ada"
) -> dict[str, Any]:
    variables = {"input": {"email": email, "password": password, "name": name}}
    return await gql(REGISTER, variables)


async def login(gql: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    return await gql(LOGIN, {"input": {"email": email, "password": password}})


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    """The single error of a result, with its message and extensions."""
    assert len(result.get("errors") or []) == 1, result
    error: dict[str, Any] = result["errors"][0]
    return error


def link_in(message: EmailMessage) -> tuple[str, str]:
    """(address, token) of the one link in a mail."""
    body = message.get_body(("plain",))
    assert body is not None
    found = _TOKEN_LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1), found.group(2)
