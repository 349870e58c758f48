from __future__ import annotations

import pytest

from graph.settings import Settings, SettingsError


def test_reads_token_lifetimes() -> None:
    settings = Settings.from_env(
        {
            "TRACKQL_ENV": "test",
            "TRACKQL_RESET_TOKEN_MINUTES": "10",
            "TRACKQL_VERIFICATION_TOKEN_HOURS": "24",
        }
    )

    assert (settings.reset_token_minutes, settings.verification_token_hours) == (
        10,
        24,
    )


def test_token_lifetimes_have_defaults() -> None:
    settings = Settings.from_env({"TRACKQL_ENV": "test"})

    assert (settings.reset_token_minutes, settings.verification_token_hours) == (
        30,
        48,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKQL_RESET_TOKEN_MINUTES", "0"),
        ("TRACKQL_VERIFICATION_TOKEN_HOURS", "a day"),
        ("TRACKQL_SMTP_URL", "http://mail.example.com"),
        ("TRACKQL_SMTP_URL", "smtp://:25"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"TRACKQL_ENV": "test", variable: value})

    assert str(raised.value).startswith(f"{variable}:")
