"""Fixed windows and client keys of the rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.rate_limits import Rate, client_key

QUARTER = Rate(20, timedelta(minutes=15))


def test_windows_are_aligned_to_the_clock() -> None:
    now = datetime(2026, 12, 1, 9, 44, 59, 500_000, tzinfo=UTC)

    assert QUARTER.window_start(now) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert QUARTER.seconds_left(now) == 1


def test_a_new_window_starts_on_its_boundary() -> None:
    boundary = datetime(2026, 12, 1, 9, 45, tzinfo=UTC)

    assert QUARTER.window_start(boundary) == boundary
    assert QUARTER.seconds_left(boundary) == 15 * 60


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_slash_64(
    address: str | None, key: str
) -> None:
    assert client_key(address) == key
