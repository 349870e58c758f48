"""Selections completed by a plan answer exactly as graphql-core's general path does,
and whatever a plan does not expect hands the object back to graphql-core with the
same data, errors and paths."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from graph.direct_resolvers import batched, call_resolvers_directly
from graph.execution import TrackqlExecutionContext
from graph.plans import Planner


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Owner(Named):
    age: int


@strawberry.type
class Stranger:
    name: str


OWNERS = {1: Owner(name="ada", age=36), 2: Owner(name="alan", age=41)}
SCALED: list[str] = []  # the boxes whose `scaled` ran, in order


async def _later(owner_id: int) -> Owner | None:
    await asyncio.sleep(0)
    return OWNERS.get(owner_id)


BATCHES: list[list[str]] = []  # the boxes of each call of a batch form


async def _owners_of(boxes: Sequence[Box], plus: int = 0) -> list[Owner | None]:
    await asyncio.sleep(0)
    BATCHES.append([box.label for box in boxes])
    if plus < 0:
        raise ValueError("no owner comes before the first")
    return [OWNERS.get(box.owner_id + plus) for box in boxes]


async def _odd_owners_of(boxes: Sequence[Box]) -> list[Any]:
    found = await _owners_of(boxes)
    return [Stranger(name="bob") if o is OWNERS[2] else o for o in found]


async def _too_few_owners_of(boxes: Sequence[Box]) -> list[Owner | None]:
    return (await _owners_of(boxes))[1:]


@strawberry.type
class Box:
    label: str
    owner_id: strawberry.Private[int]
    holder: Owner  # a plain attribute holding an object, like Edge.node

    @strawberry.field
    def owner(self, info: strawberry.Info) -> Owner | None:
        return info.context["owners"].get(self.owner_id)

    @strawberry.field
    def strict_owner(self) -> Owner:
        return OWNERS.get(self.owner_id)  # type: ignore[return-value]

    @strawberry.field
    def owners(self) -> list[Owner]:
        return list(OWNERS.values())

    @strawberry.field(graphql_type=Owner | None)
    def later_owner(self) -> Any:
        return _later(self.owner_id)

    @strawberry.field
    def broken(self) -> Owner | None:
        raise ValueError(f"{self.label} is broken")

    @strawberry.field(graphql_type=Owner | None)
    def wrong_type(self) -> Any:
        return Stranger(name="bob") if self.owner_id == 2 else OWNERS[1]

    @strawberry.field
    def sizes(self) -> list[int]:
        return [1, 2**40] if self.owner_id == 2 else [1, 2]

    # Fields a plan leaves to graphql-core: async, or with arguments.
    @strawberry.field
    async def count(self, plus: int = 0) -> int:
        await asyncio.sleep(0)
        return self.owner_id + plus

    @strawberry.field
    async def maybe(self) -> int | None:
        if self.owner_id == 2:
            raise ValueError(f"{self.label} has no maybe")
        return self.owner_id

    @strawberry.field
    def scaled(self, by: int) -> int:
        SCALED.append(self.label)
        return self.owner_id * by

    @strawberry.field
    def crash(self, loudly: bool = True) -> int:
        raise ValueError(f"{self.label} crashed")

    # Async fields whose objects a plan completes, as a connection's.
    @strawberry.field
    async def found(self, plus: int = 0) -> Owner | None:
        await asyncio.sleep(0)
        return OWNERS.get(self.owner_id + plus)

    @strawberry.field
    async def kept(self, plus: int = 0) -> Owner:
        await asyncio.sleep(0)
        if self.owner_id + plus == 2:
            raise ValueError(f"{self.label} lost its owner")
        return OWNERS.get(self.owner_id + plus)  # type: ignore[return-value]

    @strawberry.field
    async def found_later(self) -> Box:
        await asyncio.sleep(0)
        return self

    # Async fields with a batch form: once for all the boxes of a list.
    @strawberry.field
    @batched(_owners_of)
    async def together(self, plus: int = 0) -> Owner | None:
        (owner,) = await _owners_of([self], plus)
        return owner

    @strawberry.field
    @batched(_owners_of)
    async def kept_together(self, plus: int = 0) -> Owner:
        (owner,) = await _owners_of([self], plus)
        return owner  # type: ignore[return-value]

    @strawberry.field(graphql_type=Owner | None)
    @batched(_odd_owners_of)
    async def odd_together(self) -> Any:
        (owner,) = await _odd_owners_of([self])
        return owner

    @strawberry.field
    @batched(_too_few_owners_of)
    async def too_few_together(self) -> Owner | None:
        return OWNERS.get(self.owner_id)


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return [
            Box(label="first", owner_id=1, holder=OWNERS[1]),
            Box(label="second", owner_id=2, holder=OWNERS[2]),
            Box(label="third", owner_id=3, holder=OWNERS[1]),
        ]

    @strawberry.field
    def maybe_boxes(self) -> list[Box | None]:
        return [
            Box(label="first", owner_id=1, holder=OWNERS[1]),
            None,
            Box(label="second", owner_id=2, holder=OWNERS[2]),
            Box(label="third", owner_id=3, holder=OWNERS[1]),
        ]


class PlannedSchema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["execution_context_class"] = TrackqlExecutionContext
        super().__init__(*args, **kwargs)
        call_resolvers_directly(self)


DOCUMENTS = [
    # planned all the way down
    "{ boxes { label holder { name age } owner { name } owners { name } } }",
    "{ boxes { a: label b: label owner { ...N } } } fragment N on Named { name }",
    """query($s: Boolean!) {
      boxes { label @skip(if: $s) owner @include(if: $s) { age } }
    }""",
    # each hands the object back to graphql-core
    "{ boxes { label strictOwner { name } } }",  # null where null is an error
    "{ boxes { label laterOwner { name } } }",  # a value still to be awaited
    "{ boxes { label broken { name } } }",  # an exception
    "{ boxes { label wrongType { name } } }",  # a value of another type
    "{ boxes { label sizes } }",  # a leaf its type refuses
    "{ boxes { label owner { name __typename } } }",  # planned: the type's name
    # partial plans: graphql-core executes the fields a plan cannot take
    "{ boxes { count(plus: 1) label owners { name } owner { name } } }",
    "{ boxes { scaled(by: 2) owners { name } maybe __typename } }",
    "{ boxes { owners { name } count maybe } }",  # two awaited together
    "{ boxes { owners { name } crash } }",  # a non-null delegated field fails
    "{ boxes { count strictOwner { name } } }",  # the planned part gives up
    "{ boxes { scaled(by: 3) laterOwner { name } } }",  # and graphql-core recovers
    # async fields completed by a plan, their arguments coerced once per node
    "{ boxes { owners { name } found(plus: 1) { name age } } }",
    "{ boxes { owners { name } a: found { name } b: found(plus: 1) { name } } }",
    "query($p: Int!) { boxes { owners { name } found(plus: $p) { name } } }",
    "{ boxes { owners { name } kept { name } } }",  # raises, then a null: errors
    "{ boxes { owners { name } kept(plus: 1) { name } } }",
    "{ boxes { owners { name } foundLater { label strictOwner { name } } } }",
    "{ boxes { owners { name } foundLater { label laterOwner { name } } } }",
    # fields with a batch form, resolved once for all the items of a list
    "{ boxes { label together { name } } }",
    "{ maybeBoxes { owner { name } a: together { name }"
    " b: together(plus: 1) { age } } }",
    "query($p: Int!) { maybeBoxes { label together(plus: $p) { name } } }",
    "{ maybeBoxes { label together(plus: -1) { name } } }",  # every item's error
    "{ maybeBoxes { label keptTogether { name } together { name } } }",  # a null
    "{ boxes { label keptTogether(plus: 1) { name } } }",  # the error goes on
    "{ maybeBoxes { label oddTogether { name } } }",  # a value of another type
    "{ maybeBoxes { together { name } count } }",  # a field without one
    "{ maybeBoxes { label strictOwner { name } together { name } } }",  # gives up
    "{ maybeBoxes { __typename label together { __typename name } } }",
]


async def _answer(schema: strawberry.Schema, document: str) -> dict[str, Any]:
    result = await schema.execute(
        document,
        variable_values={"s": False, "p": 1},
        context_value={"owners": OWNERS},
    )
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": sorted(errors, key=str)}


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_plans_answer_as_the_general_path_does(document: str) -> None:
    general = await _answer(strawberry.Schema(query=Query), document)
    planned = await _answer(PlannedSchema(query=Query), document)
    assert planned == general


async def test_a_plan_that_gives_up_keeps_the_other_items_and_the_error_path() -> None:
    answer = await _answer(PlannedSchema(query=Query), DOCUMENTS[3])
    assert answer["data"] is None  # boxes is a non-null list of non-null boxes
    assert answer["errors"] == [
        (
            "Cannot return null for non-nullable field Box.strictOwner.",
            ["boxes", 2, "strictOwner"],
        )
    ]
    later = await _answer(PlannedSchema(query=Query), DOCUMENTS[4])
    assert later["data"] == {
        "boxes": [
            {"label": "first", "laterOwner": {"name": "ada"}},
            {"label": "second", "laterOwner": {"name": "alan"}},
            {"label": "third", "laterOwner": None},
        ]
    }


async def test_a_batch_form_is_called_once_for_all_the_items_of_a_list() -> None:
    BATCHES.clear()
    answer = await _answer(PlannedSchema(query=Query), DOCUMENTS[23])

    assert BATCHES == [["first", "second", "third"], ["first", "second", "third"]]
    assert answer["data"]["maybeBoxes"][0] == {
        "owner": {"name": "ada"},
        "a": {"name": "ada"},
        "b": {"age": 41},
    }
    assert answer["data"]["maybeBoxes"][1] is None


async def test_typename_keeps_a_list_batched_as_apollo_clients_ask_for_it() -> None:
    BATCHES.clear()
    answer = await _answer(PlannedSchema(query=Query), DOCUMENTS[-1])

    assert BATCHES == [["first", "second", "third"]]
    assert answer["data"]["maybeBoxes"][0] == {
        "__typename": "Box",
        "label": "first",
        "together": {"__typename": "Owner", "name": "ada"},
    }


async def test_a_broken_batch_form_fails_each_item_of_its_list() -> None:
    document = "{ maybeBoxes { label tooFewTogether { name } } }"
    answer = await _answer(PlannedSchema(query=Query), document)

    assert [box and box["tooFewTogether"] for box in answer["data"]["maybeBoxes"]] == [
        None
    ] * 4
    assert {message for message, _ in answer["errors"]} == {
        "Box.tooFewTogether's batch form gave 2 values for 3 sources"
    }
    assert sorted(path[1] for _, path in answer["errors"]) == [0, 2, 3]


def test_a_batch_form_takes_the_parameters_of_its_field() -> None:
    async def other(boxes: Sequence[Box], times: int) -> list[int]:
        return [times] * len(boxes)

    with pytest.raises(TypeError, match="plus"):

        @batched(other)
        async def field(self: Box, plus: int = 0) -> int:
            return plus


class Spy(TrackqlExecutionContext):
    """Records the fields each partial plan delegated."""

    delegated: list[tuple[str, ...]] = []

    def _with_delegated(self, plan: Any, *args: Any) -> Any:
        Spy.delegated.append(tuple(step.response_name for step in plan.delegated))
        return super()._with_delegated(plan, *args)


async def test_a_partial_plan_leaves_graphql_core_only_what_it_cannot_take() -> None:
    Spy.delegated.clear()
    schema = PlannedSchema(query=Query)
    schema.execution_context_class = Spy
    answer = await _answer(schema, DOCUMENTS[9])

    assert Spy.delegated == [("count",)] * 3
    assert [box["count"] for box in answer["data"]["boxes"]] == [2, 3, 4]
    assert list(answer["data"]["boxes"][0]) == ["count", "label", "owners", "owner"]


async def test_a_partial_plan_that_gives_up_has_started_none_of_its_fields() -> None:
    SCALED.clear()
    answer = await _answer(PlannedSchema(query=Query), DOCUMENTS[14])

    assert [box["scaled"] for box in answer["data"]["boxes"]] == [3, 6, 9]
    assert SCALED == ["first", "second", "third"]  # once each


class CachedSchema(PlannedSchema):
    """Parses each document once, as trackql's schema does: later requests of
    the same text execute the same operation, and share its plans."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, extensions=[ParserCache], **kwargs)


async def _answers(
    schema: strawberry.Schema, document: str, variables: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    answers = []
    for values in variables:
        result = await schema.execute(
            document, variable_values=values, context_value={"owners": OWNERS}
        )
        errors = sorted(((e.message, e.path) for e in result.errors or []), key=str)
        answers.append({"data": result.data, "errors": errors})
    return answers


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_plans_kept_from_an_earlier_request_answer_as_the_first(
    document: str,
) -> None:
    variables: list[dict[str, Any]] = [{"s": False}] * 3
    general = await _answers(strawberry.Schema(query=Query), document, variables)
    assert await _answers(CachedSchema(query=Query), document, variables) == general


async def test_a_directive_under_a_planned_field_follows_each_requests_variables() -> (
    None
):
    document = (
        "query($s: Boolean!) { boxes { label owner { name age @include(if: $s) } } }"
    )
    variables = [{"s": False}, {"s": True}, {"s": False}]
    answers = await _answers(CachedSchema(query=Query), document, variables)
    assert [list(a["data"]["boxes"][0]["owner"]) for a in answers] == [
        ["name"],
        ["name", "age"],
        ["name"],
    ]


async def test_a_later_request_of_the_same_document_builds_no_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    build = Planner._build

    def counting(self: Planner, object_type: Any, *args: Any) -> Any:
        built.append(object_type.name)
        return build(self, object_type, *args)

    monkeypatch.setattr(Planner, "_build", counting)
    schema = CachedSchema(query=Query)
    document = DOCUMENTS[9]  # a partial plan, with whole plans inside
    first = await _answers(schema, document, [{}])
    assert built  # the first request plans
    built.clear()
    assert await _answers(schema, document, [{}, {}]) == first * 2
    assert built == []
