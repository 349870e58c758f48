"""Keyset pagination: opaque cursors bound to their ordering and filter, and the
WHERE / ORDER BY / LIMIT that read one page without OFFSET."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, aliased

from domain.errors import BadUserInput
from persistence.driver_reads import on_the_driver

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

KeyKind = Literal["int", "str", "datetime"]
T = TypeVar("T")

# A nullable key sorts on a sentinel instead of NULL (row-value comparisons cannot
# handle NULL): 9999-12-31, beyond any due date a tracker holds, so NULLs come last
# ascending and first descending.
_FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of an ordering; the last key of an ordering must be unique (id)."""

    name: str
    column: ColumnElement[Any] | QueryableAttribute[Any]
    kind: KeyKind
    nullable: bool = False

    def expression(self) -> ColumnElement[Any]:
        column = self.column.expression
        if self.nullable:
            return func.coalesce(column, literal(_FAR_FUTURE, column.type))
        return column


@dataclass(frozen=True, slots=True)
class Ordering:
    keys: tuple[SortKey, ...]
    descending: bool = False

    def signature(self, filter_fingerprint: str) -> str:
        names = ",".join(k.name for k in self.keys)
        raw = f"{names}|{'desc' if self.descending else 'asc'}|{filter_fingerprint}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def values_of(self, row: Any) -> list[Any]:
        values = []
        for key in self.keys:
            value = getattr(row, key.name)
            values.append(_FAR_FUTURE if value is None and key.nullable else value)
        return values


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    def size(self) -> int:
        if self.first is not None and self.last is not None:
            raise BadUserInput.field("first", "use either first or last, not both")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise BadUserInput.field(name, f"must be between 0 and {MAX_PAGE_SIZE}")
        chosen = self.last if self.backwards else self.first
        return DEFAULT_PAGE_SIZE if chosen is None else chosen


@dataclass(slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    has_previous: bool
    ordering: Ordering
    signature: str

    def cursors(self) -> list[str]:
        """Encoded on demand: most reads select `nodes`, never a cursor."""
        return [encode_cursor(self.ordering, self.signature, row) for row in self.rows]


def fingerprint(*parts: object) -> str:
    """A stable digest of a filter, so a cursor cannot be replayed under another."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode_cursor(ordering: Ordering, signature: str, row: Any) -> str:
    values = [_dump(v) for v in ordering.values_of(row)]
    raw = json.dumps([signature, values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    ordering: Ordering, signature: str, cursor: str, argument: str
) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_signature, values = json.loads(base64.urlsafe_b64decode(padded))
        if found_signature != signature:
            raise BadUserInput.field(
                argument, "cursor belongs to another ordering or filter"
            )
        if len(values) != len(ordering.keys):
            raise ValueError("wrong number of values")
        return [
            _load(key.kind, v) for key, v in zip(ordering.keys, values, strict=True)
        ]
    except BadUserInput:
        raise
    except (
        ValueError,
        TypeError,
        binascii.Error,
        UnicodeDecodeError,
        RecursionError,  # json.loads of deeply nested brackets
    ) as exc:
        raise BadUserInput.field(argument, "invalid cursor") from exc


def reused(build: Any, request: PageRequest, *args: Any) -> tuple[Select[Any], int]:
    """`build(*args, request)` from its LRU cache: building a page's statement and
    deriving SQLAlchemy's cache key from it cost more than running it
    (bench/README.md). A cursor's values are part of the statement, so such a
    request builds its own with the uncached function. Cached statements are run
    often enough to go straight to the driver on PostgreSQL (driver_reads.py)."""
    if request.after is not None or request.before is not None:
        return build.__wrapped__(*args, request)  # type: ignore[no-any-return]
    statement, size = build(*args, request)
    return on_the_driver(statement), size


def apply(
    query: Select[Any], ordering: Ordering, signature: str, request: PageRequest
) -> tuple[Select[Any], int]:
    """Add the keyset WHERE, ORDER BY and LIMIT (one extra row) to a query."""
    size = request.size()
    conditions, order = _seek(ordering, signature, request)
    return query.where(*conditions).order_by(*order).limit(size + 1), size


def apply_partitioned(
    query: Select[Any],
    entity: type[Any] | None,
    partition: ColumnElement[int] | QueryableAttribute[int],
    parents: str,
    ordering: Ordering,
    signature: str,
    request: PageRequest,
    *,
    dialect: str,
) -> tuple[Select[Any], int]:
    """One page per parent in one statement; rows are (entity, parent id), in page
    order within each parent. `query` selects `entity` with the list's own
    conditions; this adds the parents, the keyset WHERE, ORDER BY and LIMIT. With
    `entity` None, `query` selects plain columns and rows are (*columns, parent).
    The parent ids are bound at execution to the parameter named `parents`, a
    list, so that the statement does not depend on them.

    PostgreSQL reads each parent's page with a LATERAL seek of its index: four times
    less work than numbering every row of every parent (bench/README.md). SQLite,
    which has no LATERAL, numbers them: ROW_NUMBER() OVER (PARTITION BY parent)."""
    size = request.size()
    conditions, order = _seek(ordering, signature, request)
    position = func.row_number().over(
        partition_by=None if dialect == "postgresql" else partition, order_by=order
    )
    if dialect == "postgresql":
        # One array parameter, not an IN list: the same statement text (and so the
        # same prepared statement) whatever the number of parents.
        parent_ids = (
            func.unnest(bindparam(parents, type_=ARRAY(Integer)))
            .table_valued("id")
            .render_derived(name="page_parents")
        )
        parent = parent_ids.c.id
        page = (
            query.where(partition == parent, *conditions)
            .add_columns(position.label("page_position"))
            .order_by(*order)
            .limit(size + 1)
            .lateral("page")
        )
        paged = (
            select(*_page_columns(entity, page), parent)
            .select_from(parent_ids)
            .join(page, true())
            .order_by(parent, page.c.page_position)
        )
        return paged, size
    numbered = (
        query.where(partition.in_(bindparam(parents, expanding=True)), *conditions)
        .add_columns(position.label("page_position"), partition.label("page_parent"))
        .subquery()
    )
    paged = (
        select(*_page_columns(entity, numbered), numbered.c.page_parent)
        .where(numbered.c.page_position <= size + 1)
        .order_by(numbered.c.page_parent, numbered.c.page_position)
    )
    return paged, size


def _page_columns(entity: type[Any] | None, page: Any) -> list[Any]:
    if entity is not None:
        return [aliased(entity, page)]
    paging = {"page_position", "page_parent"}
    return [column for column in page.c if column.key not in paging]


def pages_by_parent(
    rows: Sequence[Any],
    parents: Sequence[int],
    size: int,
    ordering: Ordering,
    signature: str,
    request: PageRequest,
) -> list[Page[Any]]:
    """Split (item, parent id) pairs, in page order, into one page per parent, in
    the order of `parents`."""
    grouped: dict[int, list[Any]] = {parent: [] for parent in parents}
    for entity, parent in rows:
        grouped[parent].append(entity)
    return [
        page_from_rows(grouped[parent], size, ordering, signature, request)
        for parent in parents
    ]


def _seek(
    ordering: Ordering, signature: str, request: PageRequest
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    columns = [key.expression() for key in ordering.keys]
    reverse = ordering.descending != request.backwards
    conditions = []
    for cursor, argument, after in (
        (request.after, "after", True),
        (request.before, "before", False),
    ):
        if cursor is None:
            continue
        values = decode_cursor(ordering, signature, cursor, argument)
        conditions.append(
            _beyond(columns, values, forward=after != ordering.descending)
        )
    return conditions, [c.desc() if reverse else c.asc() for c in columns]


def page_from_rows(
    rows: Sequence[T],
    size: int,
    ordering: Ordering,
    signature: str,
    request: PageRequest,
) -> Page[T]:
    items = list(rows[:size])
    more = len(rows) > size
    if request.backwards:
        items.reverse()
        has_next, has_previous = request.before is not None, more
    else:
        has_next, has_previous = more, request.after is not None
    return Page(items, has_next, has_previous, ordering, signature)


def _beyond(
    columns: list[ColumnElement[Any]], values: list[Any], *, forward: bool
) -> ColumnElement[bool]:
    # Row-value comparison: both SQLite and PostgreSQL seek the composite index.
    left = tuple_(*columns)
    right = tuple_(*(literal(v, c.type) for c, v in zip(columns, values, strict=True)))
    return left > right if forward else left < right


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _load(kind: KeyKind, value: Any) -> Any:
    if kind == "datetime":
        if not isinstance(value, str):
            raise TypeError("datetime cursor value must be a string")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime in cursor")
        return parsed
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise TypeError("int cursor value expected")
    if kind == "int" and not -(2**31) <= value < 2**31:
        # Cursors are not secret: a hand-made one may hold more than INTEGER holds.
        raise ValueError("int cursor value out of range")
    if kind == "str" and not isinstance(value, str):
        raise TypeError("str cursor value expected")
    if kind == "str" and "\x00" in value:
        raise ValueError("NUL in cursor text")  # PostgreSQL text cannot hold it
    return value
