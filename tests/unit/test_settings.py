from __future__ import annotations

from pathlib import Path

import pytest

from graph import settings as settings_module
from graph.settings import Settings, SettingsError


def test_defaults_to_an_sqlite_file_in_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    assert settings.database_url == "sqlite+aiosqlite:///./trackql.db"
    assert settings.env == "development"
    assert settings.graphiql is True


def test_development_secret_survives_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    first = Settings.from_env({}).secret_key
    second = Settings.from_env({}).secret_key

    assert first == second
    assert len(first) >= settings_module.MIN_SECRET_LENGTH
    assert (tmp_path / ".trackql-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"TRACKQL_ENV": "staging"}, "TRACKQL_ENV"),
        ({"TRACKQL_ACCESS_TOKEN_MINUTES": "soon"}, "TRACKQL_ACCESS_TOKEN_MINUTES"),
        ({"TRACKQL_LOCKOUT_ATTEMPTS": "0"}, "TRACKQL_LOCKOUT_ATTEMPTS"),
        (
            {"TRACKQL_MAX_SUBSCRIPTIONS_PER_USER": "-1"},
            "TRACKQL_MAX_SUBSCRIPTIONS_PER_USER",
        ),
        ({"TRACKQL_GRAPHIQL": "maybe"}, "TRACKQL_GRAPHIQL"),
        ({"TRACKQL_LOG_LEVEL": "loud"}, "TRACKQL_LOG_LEVEL"),
        ({"TRACKQL_DATABASE_URL": "mysql://x/y"}, "TRACKQL_DATABASE_URL"),
        ({"TRACKQL_DATABASE_URL": "::not a url::"}, "TRACKQL_DATABASE_URL"),
        ({"TRACKQL_ENV": "production"}, "TRACKQL_SECRET_KEY"),
        (
            {"TRACKQL_ENV": "production", "TRACKQL_SECRET_KEY": "short"},
            "TRACKQL_SECRET_KEY",
        ),
    ],
)
def test_invalid_values_name_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"TRACKQL_ENV": "test", **environ})

    assert str(raised.value).startswith(f"{variable}:")
    assert "\n" not in str(raised.value)


def test_production_turns_graphiql_off_by_default() -> None:
    settings = Settings.from_env(
        {"TRACKQL_ENV": "production", "TRACKQL_SECRET_KEY": "k" * 40}
    )

    assert settings.graphiql is False
    assert settings.is_production


def test_reads_every_documented_variable() -> None:
    settings = Settings.from_env(
        {
            "TRACKQL_ENV": "test",
            "TRACKQL_DATABASE_URL": "postgresql://u@db/trackql",
            "TRACKQL_PUBLIC_URL": "https://tracker.example.com/",
            "TRACKQL_SMTP_URL": "smtp://mailer:secret@mail.example.com:2525",
            "TRACKQL_MAIL_FROM": "Tracker <t@example.com>",
            "TRACKQL_ACCESS_TOKEN_MINUTES": "5",
            "TRACKQL_REFRESH_TOKEN_DAYS": "7",
            "TRACKQL_LOCKOUT_ATTEMPTS": "3",
            "TRACKQL_LOCKOUT_MINUTES": "30",
            "TRACKQL_CORS_ORIGINS": "https://a.example, https://b.example",
            "TRACKQL_GRAPHIQL": "false",
            "TRACKQL_LOG_LEVEL": "debug",
            "TRACKQL_MAX_SUBSCRIPTIONS_PER_USER": "3",
        }
    )

    assert settings.public_url == "https://tracker.example.com"
    assert settings.smtp_url == "smtp://mailer:secret@mail.example.com:2525"
    assert settings.mail_from == "Tracker <t@example.com>"
    assert (settings.access_token_minutes, settings.refresh_token_days) == (5, 7)
    assert (settings.lockout_attempts, settings.lockout_minutes) == (3, 30)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.graphiql is False
    assert settings.log_level == "DEBUG"
    assert settings.max_subscriptions_per_user == 3
