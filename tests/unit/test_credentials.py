from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain import common_passwords
from domain.credentials import (
    AccountPolicy,
    check_email,
    check_name,
    check_password,
    normalize_email,
)
from domain.errors import BadUserInput
from domain.models import LoginThrottle, utcnow
from domain.security import TokenSigner

SIGNER = TokenSigner("k" * 48, timedelta(minutes=15))


def test_emails_are_trimmed_and_lowercased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.com", "a b@example.com", "ada@example"]
)
def test_rejects_what_is_not_an_email(email: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        check_email(email)

    assert raised.value.fields == {"email": "is not a valid email address"}


def test_rejects_an_email_longer_than_the_column() -> None:
    with pytest.raises(BadUserInput):
        check_email("a" * 320 + "@example.com")


def test_names_are_trimmed_and_bounded() -> None:
    assert check_name("  Ada  ") == "Ada"
    with pytest.raises(BadUserInput):
        check_name("x" * 201)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("1234567", "must be at least 8 characters"),
        ("x" * 129, "must be at most 128 characters"),
        ("\t \n      ", "must not be only whitespace"),
        ("password1", "is one of the most common passwords"),
        ("QWERTYUIOP", "is one of the most common passwords"),
        ("Baseball", "is one of the most common passwords"),
    ],
)
def test_password_rules(password: str, reason: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        check_password(password, "newPassword")

    assert raised.value.fields == {"newPassword": reason}
    assert reason in raised.value.message


@pytest.mark.parametrize("password", ["zq8#vb2m", "x" * 128, " spaced  out "])
def test_accepts_passwords_within_the_rules(password: str) -> None:
    assert check_password(password) == password


def test_the_common_password_list_holds_three_thousand_passwords() -> None:
    passwords = {
        line
        for line in Path(common_passwords.__file__)
        .with_name(common_passwords.LIST_FILE)
        .read_text()
        .splitlines()
        if line and not line.startswith("#")
    }

    assert len(passwords) == 3000
    assert all(common_passwords.is_common(p.upper()) for p in passwords)


def test_links_point_at_the_public_url() -> None:
    policy = AccountPolicy(signer=SIGNER, public_url="https://t.example")

    assert policy.link("reset-password", "abc") == (
        "https://t.example/reset-password?token=abc"
    )


def test_a_throttle_locks_on_the_last_allowed_failure_and_starts_over() -> None:
    now = utcnow()
    throttle = LoginThrottle(email="a@example.com", failed_attempts=0)

    for _ in range(3):
        throttle.register_failure(now, 3, timedelta(minutes=15))

    assert throttle.retry_after(now) == 15 * 60
    assert throttle.retry_after(now + timedelta(minutes=15)) is None
    assert throttle.failed_attempts == 0
