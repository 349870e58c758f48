"""The rate-limit and proxy settings: documented defaults, the COUNT/PERIOD format,
TRACKQL_RATE_LIMITS=off, and validation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.rate_limits import Rate, RateLimits
from graph.settings import Settings, SettingsError

TEST = {"TRACKQL_ENV": "test"}
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def test_defaults_are_the_documented_limits() -> None:
    settings = Settings.from_env(TEST)

    assert settings.rate_limits == RateLimits(
        enabled=True,
        login_per_email=Rate(20, 15 * MINUTE),
        login_per_client=Rate(300, 15 * MINUTE),
        register_per_client=Rate(50, HOUR),
        password_reset_per_email=Rate(3, HOUR),
        password_reset_per_client=Rate(30, HOUR),
    )
    assert settings.trusted_proxies == ()


def test_reads_every_rate_limit_variable() -> None:
    settings = Settings.from_env(
        {
            **TEST,
            "TRACKQL_RATE_LIMIT_LOGIN_PER_EMAIL": "10/5 minutes",
            "TRACKQL_RATE_LIMIT_LOGIN_PER_CLIENT": "1000/hour",
            "TRACKQL_RATE_LIMIT_REGISTER_PER_CLIENT": "5/day",
            "TRACKQL_RATE_LIMIT_PASSWORD_RESET_PER_EMAIL": "1/15minutes",
            "TRACKQL_RATE_LIMIT_PASSWORD_RESET_PER_CLIENT": "2 / 30 Seconds",
        }
    )

    assert settings.rate_limits == RateLimits(
        login_per_email=Rate(10, 5 * MINUTE),
        login_per_client=Rate(1000, HOUR),
        register_per_client=Rate(5, timedelta(days=1)),
        password_reset_per_email=Rate(1, 15 * MINUTE),
        password_reset_per_client=Rate(2, timedelta(seconds=30)),
    )


@pytest.mark.parametrize("value", ["off", "false", "0"])
def test_rate_limits_off_keeps_the_configured_rates(value: str) -> None:
    settings = Settings.from_env(
        {
            **TEST,
            "TRACKQL_RATE_LIMITS": value,
            "TRACKQL_RATE_LIMIT_LOGIN_PER_EMAIL": "1/hour",
        }
    )

    assert settings.rate_limits.enabled is False
    assert settings.rate_limits.login_per_email == Rate(1, HOUR)
    assert settings.lockout_attempts == 5


@pytest.mark.parametrize(
    "value", ["3", "3/", "/hour", "0/hour", "3/0 hours", "-1/hour", "3/fortnight"]
)
def test_a_malformed_rate_names_its_variable(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**TEST, "TRACKQL_RATE_LIMIT_REGISTER_PER_CLIENT": value})

    assert str(raised.value).startswith("TRACKQL_RATE_LIMIT_REGISTER_PER_CLIENT:")
    assert "COUNT/PERIOD" in str(raised.value)


def test_reads_trusted_proxies_as_addresses_and_networks() -> None:
    settings = Settings.from_env(
        {**TEST, "TRACKQL_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"}
    )

    assert settings.trusted_proxies == ("10.0.0.0/8", "192.0.2.1", "::1")


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.0/33"])
def test_a_trusted_proxy_must_be_an_address_or_network(value: str) -> None:
    with pytest.raises(SettingsError, match="TRACKQL_TRUSTED_PROXIES"):
        Settings.from_env({**TEST, "TRACKQL_TRUSTED_PROXIES": value})
