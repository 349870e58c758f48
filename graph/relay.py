"""Relay plumbing: opaque global IDs, the Node interface and keyset connections."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.errors import BadUserInput, NotFound
from persistence.keyset import Page, PageRequest, encode_cursor

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")
T = TypeVar("T")
# Ids are INTEGER columns (32-bit on PostgreSQL): a larger number can name no row,
# and the driver refuses to send it.
MAX_ID = 2**31 - 1


def to_global_id(type_name: str, ident: int) -> strawberry.ID:
    # binascii directly: half the time of base64.b64encode, once per object built.
    raw = f"{type_name}:{ident}".encode()
    return binascii.b2a_base64(raw, newline=False).decode()  # type: ignore[return-value]


def parse_global_id(value: str) -> tuple[str, int] | None:
    """(type name, database id) of a global ID, or None if it is not one."""
    try:
        type_name, _, ident = (
            base64.b64decode(value, validate=True).decode().partition(":")
        )
        number = _number(ident)
        return (type_name, number) if type_name and number is not None else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def decode_id(value: str, type_name: str, *, argument: str = "id") -> int:
    """The database id behind a global ID of `type_name`; bare digits are accepted
    too, so hand-written queries in GraphiQL work."""
    number = _number(value)
    if number is not None:
        return number
    parsed = parse_global_id(value)
    if parsed is None:
        raise BadUserInput.field(argument, f"not a valid {type_name} id")
    found_type, ident = parsed
    if found_type != type_name:
        raise NotFound.of(type_name, value)
    return ident


def _number(digits: str) -> int | None:
    # isdigit() alone accepts "²" and other digits that int() refuses.
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = int(digits)
    return number if number <= MAX_ID else None


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    # Edges and page info are built when selected: their cursors cost an encoding
    # per row that a `nodes` read never shows.
    @strawberry.field
    def edges(self) -> list[Edge[NodeT]]:
        cursors = self.page.cursors()
        return [
            Edge(cursor=c, node=n) for c, n in zip(cursors, self.items, strict=True)
        ]

    # A resolver, not a plain field, only to keep the schema's field order.
    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return self.items

    @strawberry.field
    def page_info(self) -> PageInfo:
        page = self.page
        first, last = page.rows[:1], page.rows[-1:]
        return PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=_cursor(page, first),
            end_cursor=_cursor(page, last),
        )

    items: strawberry.Private[list[NodeT]]
    page: strawberry.Private[Page[Any]]
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        """Counted only when selected."""
        return await self.count()

    @classmethod
    def build(
        cls,
        page: Page[RowT],
        convert: Callable[[RowT], NodeT],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[NodeT]:
        return cls(items=[convert(row) for row in page.rows], page=page, count=count)


def _cursor(page: Page[Any], rows: list[Any]) -> str | None:
    return encode_cursor(page.ordering, page.signature, rows[0]) if rows else None


def given(value: T | None) -> T | None:
    """None for an omitted argument (UNSET) as for an explicit null."""
    return None if value is strawberry.UNSET else value


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(
        first=given(first), after=given(after), last=given(last), before=given(before)
    )
