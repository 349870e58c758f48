"""DateTime: ISO 8601 with an offset on input, UTC with microseconds on output."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types.scalar import ScalarDefinition

from domain.errors import BadUserInput


def serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadUserInput("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"invalid DateTime {value!r}") from None
    if parsed.tzinfo is None:
        raise BadUserInput(f"DateTime {value!r} needs a UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+01:00 is a valid ISO 8601 moment before year 1 in UTC.
        raise BadUserInput(f"DateTime {value!r} is out of range in UTC") from None


DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 date and time with offset; always UTC on output.",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
