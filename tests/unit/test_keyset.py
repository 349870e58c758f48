from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

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


def decoded_or_refused(cursor: str, argument: str) -> list[Any] | set[str]:
    """The cursor's values, or the fields of its BAD_USER_INPUT; nothing else."""
    try:
        return keyset.decode_cursor(ORDERING, "sig", cursor, argument)
    except BadUserInput as refused:
        return set(refused.fields)


def well_typed(values: list[Any]) -> bool:
    due, ident = values
    return (
        isinstance(due, datetime)
        and due.tzinfo is not None
        and type(ident) is int
        and -(2**31) <= ident < 2**31
    )


@given(
    ident=st.integers(min_value=1, max_value=2**31 - 1),
    position=st.integers(min_value=0),
    replacement=st.characters(),
)
def test_a_tampered_cursor_is_refused_or_still_well_typed(
    ident: int, position: int, replacement: str
) -> None:
    row = SimpleNamespace(due_date=None, id=ident)
    cursor = keyset.encode_cursor(ORDERING, "sig", row)
    at = position % len(cursor)
    tampered = cursor[:at] + replacement + cursor[at + 1 :]

    outcome = decoded_or_refused(tampered, "after")

    assert outcome == {"after"} or (isinstance(outcome, list) and well_typed(outcome))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=6,
)


MOMENTS = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
# Mostly shaped like a real (due date, id) key, so that the checks of each value
# are reached, not only those of the shape.
KEYS = st.tuples(MOMENTS | JSON, st.integers() | JSON).map(list)


@given(values=KEYS | st.lists(JSON, max_size=3))
def test_a_hand_made_cursor_with_the_right_signature_is_refused_or_well_typed(
    values: list[Any],
) -> None:
    raw = json.dumps(["sig", values]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode()

    outcome = decoded_or_refused(cursor, "before")

    assert outcome == {"before"} or (isinstance(outcome, list) and well_typed(outcome))
