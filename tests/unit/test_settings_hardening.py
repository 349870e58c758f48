"""The settings of the HTTP and document defences: defaults, variables, validation."""

from __future__ import annotations

import pytest

from graph.settings import QueryLimits, Settings, SettingsError

TEST = {"TRACKQL_ENV": "test"}
PRODUCTION = {"TRACKQL_ENV": "production", "TRACKQL_SECRET_KEY": "k" * 40}


def test_defaults_are_the_documented_limits() -> None:
    settings = Settings.from_env(TEST)

    assert settings.query_limits == QueryLimits(
        max_depth=10,
        max_aliases=15,
        max_tokens=1_000,
        max_directives=50,
        max_length=15_000,
        max_cost=5_000,
    )
    assert settings.max_body_bytes == 1_048_576
    assert settings.introspection is True


def test_reads_every_limit_variable() -> None:
    settings = Settings.from_env(
        {
            **TEST,
            "TRACKQL_MAX_QUERY_DEPTH": "12",
            "TRACKQL_MAX_QUERY_ALIASES": "20",
            "TRACKQL_MAX_QUERY_TOKENS": "2000",
            "TRACKQL_MAX_QUERY_DIRECTIVES": "60",
            "TRACKQL_MAX_QUERY_LENGTH": "30000",
            "TRACKQL_MAX_QUERY_COST": "8000",
            "TRACKQL_MAX_BODY_BYTES": "65536",
            "TRACKQL_INTROSPECTION": "false",
        }
    )

    assert settings.query_limits == QueryLimits(12, 20, 2_000, 60, 30_000, 8_000)
    assert settings.max_body_bytes == 65_536
    assert settings.introspection is False


def test_production_turns_introspection_off_unless_asked() -> None:
    default = Settings.from_env(PRODUCTION)
    asked = Settings.from_env({**PRODUCTION, "TRACKQL_INTROSPECTION": "true"})

    assert default.introspection is False
    assert asked.introspection is True


@pytest.mark.parametrize(
    "variable",
    [
        "TRACKQL_MAX_QUERY_DEPTH",
        "TRACKQL_MAX_QUERY_ALIASES",
        "TRACKQL_MAX_QUERY_TOKENS",
        "TRACKQL_MAX_QUERY_DIRECTIVES",
        "TRACKQL_MAX_QUERY_LENGTH",
        "TRACKQL_MAX_QUERY_COST",
        "TRACKQL_MAX_BODY_BYTES",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_limits_must_be_positive_integers(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**TEST, variable: value})

    assert str(raised.value).startswith(f"{variable}:")


def test_introspection_must_be_a_flag() -> None:
    with pytest.raises(SettingsError, match=r"^TRACKQL_INTROSPECTION:"):
        Settings.from_env({**TEST, "TRACKQL_INTROSPECTION": "sometimes"})


def test_cors_origins_accept_origins_with_ports() -> None:
    settings = Settings.from_env(
        {
            **TEST,
            "TRACKQL_CORS_ORIGINS": "https://app.example.com, http://localhost:5173",
        }
    )

    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/path",
        "ftp://files.example.com",
        "https://app.example.com:port",
    ],
)
def test_cors_origins_must_be_exact_origins(origin: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**TEST, "TRACKQL_CORS_ORIGINS": origin})

    assert str(raised.value).startswith("TRACKQL_CORS_ORIGINS:")
