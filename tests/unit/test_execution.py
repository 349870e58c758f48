"""The executor's short path for plain leaves answers exactly as graphql-core's general
path does, errors and their paths included."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from graph.execution import TrackqlExecutionContext


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    count: int
    note: str | None
    colour: Colour
    tags: list[str]

    @strawberry.field
    def shout(self, suffix: str = "!") -> str:
        return self.name.upper() + suffix


def _items() -> list[Item]:
    return [
        Item(name="a", count=1, note=None, colour=Colour.RED, tags=["x"]),
        # A plain field left null, and an Int beyond 32 bits: both are errors.
        Item(name=None, count=2**40, note="n", colour=Colour.RED, tags=[]),  # type: ignore[arg-type]
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return _items()


class Shout(SchemaExtension):
    """A field middleware: with one, every field must go through graphql-core."""

    def resolve(self, _next: Any, root: Any, info: Any, **kwargs: Any) -> Any:
        result = _next(root, info, **kwargs)
        return result.upper() if isinstance(result, str) else result


DOCUMENTS = [
    "{ items { name count note colour tags shout } }",
    """{ items { n: name c: count ...F } }
    fragment F on Item { note shout(suffix: "?") }""",
    "query($s: Boolean!) { items { name @skip(if: $s) count @include(if: $s) } }",
    "{ items { __typename note } }",
    "{ items { note colour a: name b: name } }",
    "{ items { note name } }",
]


def _answer(schema: strawberry.Schema, document: str) -> dict[str, Any]:
    result = schema.execute_sync(document, variable_values={"s": True})
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": sorted(errors, key=str)}


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("extensions", [[], [Shout]])
def test_plain_leaves_answer_as_the_general_path_does(
    document: str, extensions: list[type[SchemaExtension]]
) -> None:
    general = strawberry.Schema(query=Query, extensions=extensions)
    short = strawberry.Schema(
        query=Query,
        extensions=extensions,
        execution_context_class=TrackqlExecutionContext,
    )

    assert _answer(short, document) == _answer(general, document)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Cannot return null for non-nullable field Item.name."),
        (
            "count",
            "Int cannot represent non 32-bit signed integer value: 1099511627776",
        ),
    ],
)
def test_a_leaf_the_general_path_refuses_is_still_an_error_at_its_path(
    field: str, message: str
) -> None:
    schema = strawberry.Schema(
        query=Query, execution_context_class=TrackqlExecutionContext
    )

    answer = _answer(schema, f"{{ items {{ {field} }} }}")

    assert answer["data"] == {"items": [{field: _items()[0].__dict__[field]}, None]}
    assert answer["errors"] == [(message, ["items", 1, field])]
