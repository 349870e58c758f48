from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput
from domain.models import Task
from persistence import keyset

ORDERING = keyset.Ordering(
    (
        keyset.SortKey("due_date", Task.due_date, "datetime", nullable=True),
        keyset.SortKey("id", Task.id, "int"),
    )
)


@given(
    due=st.none() | st.datetimes(timezones=st.just(UTC)),
    ident=st.integers(min_value=1, max_value=2**31 - 1),
)
def test_cursor_round_trips_its_sort_key(due: datetime | None, ident: int) -> None:
    row = SimpleNamespace(due_date=due, id=ident)

    cursor = keyset.encode_cursor(ORDERING, "sig", row)

    expected_due = due if due is not None else datetime(9999, 12, 31, tzinfo=UTC)
    assert keyset.decode_cursor(ORDERING, "sig", cursor, "after") == [
        expected_due,
        ident,
    ]


def test_cursor_from_another_ordering_or_filter_is_refused() -> None:
    cursor = keyset.encode_cursor(
        ORDERING, "sig-a", SimpleNamespace(due_date=None, id=1)
    )

    with pytest.raises(BadUserInput) as raised:
        keyset.decode_cursor(ORDERING, "sig-b", cursor, "after")

    assert "another ordering" in raised.value.fields["after"]


@given(garbage=st.text(max_size=40))
def test_garbage_cursor_is_bad_user_input(garbage: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        keyset.decode_cursor(ORDERING, "sig", garbage, "before")

    assert set(raised.value.fields) == {"before"}


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (keyset.PageRequest(first=101), "first"),
        (keyset.PageRequest(first=-1), "first"),
        (keyset.PageRequest(last=500), "last"),
        (keyset.PageRequest(first=1, last=1), "first"),
    ],
)
def test_page_sizes_out_of_range_are_refused(
    request_: keyset.PageRequest, field: str
) -> None:
    with pytest.raises(BadUserInput) as raised:
        request_.size()

    assert field in raised.value.fields


def test_page_size_defaults_to_twenty_and_zero_is_allowed() -> None:
    assert keyset.PageRequest().size() == 20
    assert keyset.PageRequest(first=0).size() == 0
