"""Partial updates: KEEP marks a field the caller left out, as opposed to None,
which clears it."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias, TypeVar

T = TypeVar("T")


class _Keep(enum.Enum):
    KEEP = "KEEP"

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep.KEEP
Keep: TypeAlias = Literal[_Keep.KEEP]
