"""`trackql create-admin`: the first administrator, password never on argv."""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.cli import main
from graph.settings import Settings
from tests.account_operations import ME, error_of, login
from tests.conftest import GraphQLClient
from tests.factories import UserFactory
from tests.integration.test_cli import run_cli

PASSWORD = "an administrator passphrase"


def create_admin(settings: Settings, *extra: str, stdin: str) -> Any:
    return run_cli(
        "create-admin",
        "--email",
        "Root@Example.com",
        "--name",
        "Root",
        *extra,
        env={"TRACKQL_DATABASE_URL": settings.database_url},
        stdin=stdin,
    )


async def test_creates_an_admin_with_the_password_from_stdin(
    gql: GraphQLClient, settings: Settings
) -> None:
    result = await asyncio.to_thread(create_admin, settings, stdin=PASSWORD + "\n")

    assert result.returncode == 0, result.stderr
    assert "created administrator root@example.com" in result.stdout
    tokens = (await login(gql, "root@example.com", PASSWORD))["data"]["login"]
    me = (await gql.as_user(tokens["accessToken"])(ME))["data"]["me"]
    assert (me["role"], me["isVerified"]) == ("ADMIN", True)


async def test_an_existing_email_is_refused_with_status_1(
    gql: GraphQLClient, settings: Settings, session: AsyncSession
) -> None:
    await UserFactory.create_async(email="root@example.com")
    await session.commit()

    result = await asyncio.to_thread(create_admin, settings, stdin=PASSWORD + "\n")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "trackql: email already registered"
    refused = await login(gql, "root@example.com", PASSWORD)
    assert error_of(refused)["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_weak_password_is_refused_with_status_1(
    gql: GraphQLClient, settings: Settings
) -> None:
    result = await asyncio.to_thread(create_admin, settings, stdin="short\n")

    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr


def test_a_password_on_the_command_line_is_not_accepted(tmp_path: Any) -> None:
    settings = Settings(secret_key="x", database_url=f"sqlite:///{tmp_path}/t.db")

    result = create_admin(settings, "--password", PASSWORD, stdin="")

    assert result.returncode == 2
    assert "unrecognized arguments: --password" in result.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("entries", "status"), [((PASSWORD, PASSWORD), 0), ((PASSWORD, "typo"), 1)]
)
async def test_on_a_terminal_the_password_is_asked_twice(
    gql: GraphQLClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    entries: tuple[str, str],
    status: int,
) -> None:
    answers = iter(entries)
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setenv("TRACKQL_ENV", "test")
    monkeypatch.setenv("TRACKQL_DATABASE_URL", settings.database_url)
    argv = ["create-admin", "--email", "root@example.com", "--name", "Root"]

    result = await asyncio.to_thread(main, argv)

    assert result == status
    assert len(prompts) == 2
    logged_in = await login(gql, "root@example.com", PASSWORD)
    assert ("errors" not in logged_in) is (status == 0)
