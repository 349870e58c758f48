"""Checking user input field by field, and partial updates ("leave as is" vs null).

Every violation of one input is collected and raised at once as BAD_USER_INPUT with
`fields: {fieldName: reason}`, so a form can show all of its errors together.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TypeAlias, TypeVar

from domain.errors import BadUserInput
from domain.models import DESCRIPTION_MAX, NAME_MAX

T = TypeVar("T")
PRIORITY_MIN, PRIORITY_MAX = 1, 5


class Keep(enum.Enum):
    """An update input's omitted field: keep the stored value (None clears it)."""

    KEEP = "KEEP"


KEEP = Keep.KEEP
Change: TypeAlias = T | Literal[Keep.KEEP] | None


class FieldErrors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, reason: str) -> None:
        self.fields.setdefault(field, reason)

    def name(self, field: str, value: str | None) -> str:
        """A name or title: trimmed, 1 to NAME_MAX characters."""
        trimmed = (value or "").strip()
        if not trimmed:
            self.add(field, "must not be blank")
        elif len(trimmed) > NAME_MAX:
            self.add(field, f"must be at most {NAME_MAX} characters")
        return trimmed

    def description(self, field: str, value: str | None) -> str | None:
        if value is not None and len(value) > DESCRIPTION_MAX:
            self.add(field, f"must be at most {DESCRIPTION_MAX} characters")
        return value

    def priority(self, field: str, value: int | None) -> int:
        if value is None or not PRIORITY_MIN <= value <= PRIORITY_MAX:
            self.add(field, f"must be between {PRIORITY_MIN} and {PRIORITY_MAX}")
            return PRIORITY_MIN
        return value

    def required(self, field: str, value: T | None) -> T | None:
        if value is None:
            self.add(field, "must not be null")
        return value


@contextmanager
def checking() -> Iterator[FieldErrors]:
    """Collect violations in the block; raise them together at its end."""
    errors = FieldErrors()
    yield errors
    if errors.fields:
        summary = "; ".join(f"{k}: {v}" for k, v in errors.fields.items())
        raise BadUserInput(f"invalid input ({summary})", errors.fields)
