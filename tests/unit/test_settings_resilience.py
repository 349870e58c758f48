"""The database timeouts and the shutdown bound: defaults, variables, validation."""

from __future__ import annotations

import pytest

from graph.settings import Settings, SettingsError
from persistence.engine import PoolOptions

TEST = {"TRACKQL_ENV": "test"}


def test_defaults_answer_an_outage_within_five_seconds() -> None:
    settings = Settings.from_env(TEST)

    assert settings.pool == PoolOptions(
        size=10,
        overflow=10,
        timeout_seconds=5.0,
        connect_timeout_seconds=3.0,
        statement_timeout_ms=15_000,
    )
    assert settings.pool.connect_timeout_seconds < 5
    assert settings.shutdown_timeout_seconds == 30


def test_reads_every_timeout_variable() -> None:
    settings = Settings.from_env(
        {
            **TEST,
            "TRACKQL_DB_POOL_SIZE": "4",
            "TRACKQL_DB_POOL_OVERFLOW": "0",
            "TRACKQL_DB_POOL_TIMEOUT_SECONDS": "1.5",
            "TRACKQL_DB_CONNECT_TIMEOUT_SECONDS": "2",
            "TRACKQL_DB_STATEMENT_TIMEOUT_MS": "2500",
            "TRACKQL_SHUTDOWN_TIMEOUT_SECONDS": "12",
        }
    )

    assert settings.pool == PoolOptions(4, 0, 1.5, 2.0, 2_500)
    assert settings.shutdown_timeout_seconds == 12


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKQL_DB_POOL_SIZE", "0"),
        ("TRACKQL_DB_POOL_OVERFLOW", "-1"),
        ("TRACKQL_DB_POOL_TIMEOUT_SECONDS", "0"),
        ("TRACKQL_DB_CONNECT_TIMEOUT_SECONDS", "nan"),
        ("TRACKQL_DB_CONNECT_TIMEOUT_SECONDS", "inf"),
        ("TRACKQL_DB_STATEMENT_TIMEOUT_MS", "soon"),
        ("TRACKQL_SHUTDOWN_TIMEOUT_SECONDS", "-5"),
    ],
)
def test_invalid_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**TEST, variable: value})

    assert str(raised.value).startswith(f"{variable}: ")
