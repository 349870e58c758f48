"""Resolvers called directly answer exactly as through Strawberry's chain: the Info
they see, their errors, and the fields that must keep the chain (arguments,
permissions, field extensions)."""

from __future__ import annotations

import enum
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from graph.direct_resolvers import call_resolvers_directly


class Deny(BasePermission):
    message = "not allowed"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Exclaim(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kw: Any) -> Any:
        return f"{next_(source, info, **kw)}!"


@strawberry.input
class Range:
    low: int
    high: int = 10
    note: str | None = None


@strawberry.enum
class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return f"{self.name} at {info.path.as_list()} for {info.context['who']}"

    @strawberry.field
    def plain(self) -> str:
        return self.name * 2

    @strawberry.field
    def renamed(self, i: strawberry.Info) -> list[str]:
        return [i.field_name, i.python_name, str(i.path.typename)]

    @strawberry.field
    async def later(self, info: strawberry.Info) -> str:
        return f"{self.name} later for {info.context['who']}"

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError(f"{self.name} failed")

    @strawberry.field
    def failing_non_null(self) -> str:
        raise ValueError(f"{self.name} failed hard")

    @strawberry.field
    def with_argument(self, times: int = 1) -> str:
        return self.name * times

    @strawberry.field
    def described(
        self,
        info: strawberry.Info,
        range_: Annotated[Range | None, strawberry.argument(name="range")] = None,
        mood: Mood = Mood.HAPPY,
        tags: list[str] | None = None,
        given_id: strawberry.ID | None = strawberry.UNSET,
        times: int = 1,
    ) -> str:
        seen = (range_, mood, tags, given_id, times, info.field_name)
        return f"{self.name}: {seen!r}"

    @strawberry.field(permission_classes=[Deny])
    def secret(self) -> str | None:
        return "leaked"

    @strawberry.field(extensions=[Exclaim()])
    def loud(self) -> str:
        return self.name


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="a"), Item(name="b")]

    @strawberry.field
    @staticmethod
    def hello(info: strawberry.Info) -> str:
        return f"hello {info.context['who']}"


class DirectSchema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        call_resolvers_directly(self)


DOCUMENTS = [
    "{ items { where plain renamed later } hello }",
    "{ items { name failing } }",
    "{ items { name failingNonNull } }",
    "{ items { withArgument(times: 3) secret loud } }",
    "{ items { w: where p: plain ...F } } fragment F on Item { later }",
    "{ items { described } }",
    """{ items { described(
        range: {low: 1}, mood: SAD, tags: ["a"], givenId: "x", times: 2
    ) } }""",
    "{ items { described(range: null, givenId: null, tags: null) } }",
    "query($r: Range) { items { described(range: $r, times: -1) } }",
    "{ items { described(range: {low: 1, high: 2, note: null}) } }",
]


async def _answer(schema: strawberry.Schema, document: str) -> dict[str, Any]:
    result = await schema.execute(
        document,
        context_value={"who": "ada"},
        variable_values={"r": {"low": 3, "note": "n"}},
    )
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": sorted(errors, key=str)}


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_direct_resolvers_answer_as_strawberrys_chain_does(document: str) -> None:
    chained = await _answer(strawberry.Schema(query=Query), document)
    direct = await _answer(DirectSchema(query=Query), document)
    assert direct == chained
    assert direct["data"] is not None or direct["errors"]


async def test_permissions_and_field_extensions_still_apply() -> None:
    answer = await _answer(DirectSchema(query=Query), DOCUMENTS[3])
    assert answer["data"] == {
        "items": [
            {"withArgument": "aaa", "secret": None, "loud": "a!"},
            {"withArgument": "bbb", "secret": None, "loud": "b!"},
        ]
    }
    assert [message for message, _ in answer["errors"]] == ["not allowed"] * 2


async def test_arguments_arrive_converted_with_their_defaults() -> None:
    answer = await _answer(DirectSchema(query=Query), DOCUMENTS[6])
    assert answer["data"]["items"][0]["described"] == (
        "a: (Range(low=1, high=10, note=None), <Mood.SAD: 'sad'>, ['a'], 'x', 2,"
        " 'described')"
    )
    defaults = await _answer(DirectSchema(query=Query), DOCUMENTS[5])
    assert defaults["data"]["items"][1]["described"] == (
        "b: (None, <Mood.HAPPY: 'happy'>, None, UNSET, 1, 'described')"
    )


async def test_an_info_parameter_sees_the_field_and_the_context() -> None:
    answer = await _answer(DirectSchema(query=Query), DOCUMENTS[0])
    first = answer["data"]["items"][0]
    assert first["where"] == "a at ['items', 0, 'where'] for ada"
    assert first["renamed"] == ["renamed", "renamed", "Item"]
    assert first["later"] == "a later for ada"
    assert answer["data"]["hello"] == "hello ada"
