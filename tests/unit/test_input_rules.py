"""Properties of the input rules every create and update applies: names and titles
trimmed to 1..200 characters, descriptions of at most 10,000, priorities 1..5, and
every violation of one input reported at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadUserInput
from domain.inputs import FieldErrors, checking

NAMES = st.text(max_size=210) | st.text(min_size=195, max_size=205).map(
    lambda core: f"  {core}\t"
)
DESCRIPTIONS = (
    st.none()
    | st.text(max_size=50)
    | st.integers(9_990, 10_010).map(lambda size: "d" * size)
)


def outcome(rules: Callable[[FieldErrors], Any]) -> tuple[Any, set[str]]:
    """What the rules accepted, and the fields they refused."""
    try:
        with checking() as errors:
            accepted = rules(errors)
    except BadUserInput as refused:
        return None, set(refused.fields)
    return accepted, set()


@given(raw=NAMES)
def test_a_name_is_trimmed_and_accepted_only_with_1_to_200_characters(
    raw: str,
) -> None:
    accepted, refused = outcome(lambda errors: errors.name("name", raw))

    if 1 <= len(raw.strip()) <= 200:
        assert (accepted, refused) == (raw.strip(), set())
    else:
        assert refused == {"name"}


@given(raw=DESCRIPTIONS)
def test_a_description_is_accepted_up_to_10000_characters(raw: str | None) -> None:
    accepted, refused = outcome(lambda errors: errors.description("d", raw))

    if raw is None or len(raw) <= 10_000:
        assert (accepted, refused) == (raw, set())
    else:
        assert refused == {"d"}


@given(priority=st.none() | st.integers())
def test_a_priority_is_accepted_only_from_1_to_5(priority: int | None) -> None:
    accepted, refused = outcome(lambda errors: errors.priority("p", priority))

    if priority is not None and 1 <= priority <= 5:
        assert (accepted, refused) == (priority, set())
    else:
        assert refused == {"p"}


@given(title=NAMES, description=DESCRIPTIONS, priority=st.integers(-2, 8))
def test_every_violation_of_one_input_is_reported_together(
    title: str, description: str | None, priority: int
) -> None:
    def rules(errors: FieldErrors) -> None:
        errors.name("title", title)
        errors.description("description", description)
        errors.priority("priority", priority)

    _, refused = outcome(rules)

    assert refused == {
        field
        for field, bad in (
            ("title", not 1 <= len(title.strip()) <= 200),
            ("description", description is not None and len(description) > 10_000),
            ("priority", not 1 <= priority <= 5),
        )
        if bad
    }
