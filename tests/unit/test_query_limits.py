"""Depth, alias and directive limits and single-use mutations, as validation rules on a
small schema (the account mutations need not exist in this branch)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLError,
    build_schema,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types.execution import PreExecutionError

from graph.cost import cached_plan
from graph.limits import CACHE_SIZE, SingleUseMutations, limits_rule
from graph.profile import SchemaPolicy, document_defences
from graph.schema import build_schema as build_trackql_schema
from graph.settings import QueryLimits

SCHEMA = build_schema("""
directive @tag on QUERY | FRAGMENT_DEFINITION | VARIABLE_DEFINITION
type Query { me: User  projects(first: Int): ProjectConnection! }
type User { id: ID! name: String! projects(first: Int): ProjectConnection! }
type Project { id: ID! name: String! owner: User! }
type ProjectEdge { cursor: String! node: Project! }
type PageInfo { hasNextPage: Boolean! }
type ProjectConnection { edges: [ProjectEdge!]! pageInfo: PageInfo! }
type Mutation {
  login(email: String!): String!
  logout: Boolean!
  refreshToken(token: String!): String!
  requestPasswordReset(email: String!): Boolean!
  resetPassword(token: String!): Boolean!
}
""")
DEPTH_8 = (
    "{ me { projects { edges { node { owner { projects { edges { cursor } } } } } } } }"
)


def errors(query: str, limits: QueryLimits | None = None) -> list[GraphQLError]:
    rules = [*specified_rules, limits_rule(limits or QueryLimits()), SingleUseMutations]
    return validate(SCHEMA, parse(query), rules)


def codes(query: str, limits: QueryLimits | None = None) -> list[dict[str, Any]]:
    return [dict(error.extensions or {}) for error in errors(query, limits)]


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(count)) + " }"


def test_depth_counts_every_field_level_including_edges_and_node() -> None:
    assert codes(DEPTH_8, QueryLimits(max_depth=8)) == []
    assert codes(DEPTH_8, QueryLimits(max_depth=7)) == [
        {"code": "QUERY_TOO_COMPLEX", "depth": 8, "maxDepth": 7}
    ]


def test_depth_follows_fragments_and_inline_fragments() -> None:
    query = """
    { me { ...P } }
    fragment P on User { projects { edges { ... on ProjectEdge { node { id } } } } }
    """

    assert codes(query, QueryLimits(max_depth=5)) == []
    assert codes(query, QueryLimits(max_depth=4))[0]["depth"] == 5


def test_default_depth_is_ten() -> None:
    nine_deep = DEPTH_8.replace("edges { cursor }", "edges { node { id } }")
    ten_deep = nine_deep.replace("node { id }", "node { owner { id } }")
    eleven_deep = ten_deep.replace(
        "owner { id }", "owner { projects { pageInfo { hasNextPage } } }"
    )

    assert codes(ten_deep) == []
    assert codes(eleven_deep)[0]["depth"] > 10


def test_fifteen_aliases_pass_and_sixteen_do_not() -> None:
    assert codes(aliases(15)) == []
    assert codes(aliases(16)) == [
        {"code": "QUERY_TOO_COMPLEX", "aliases": 16, "maxAliases": 15}
    ]


def test_aliases_in_a_fragment_count_at_every_spread() -> None:
    query = "{ ...A ...A } fragment A on Query { " + aliases(8)[2:-2] + " }"

    assert codes(query)[0]["aliases"] == 16


def test_directives_count_everywhere_with_fragments_expanded() -> None:
    query = """
    query Q($skip: Boolean = false @tag) @tag {
      me @include(if: true) { ...F @include(if: true) ...F }
    }
    fragment F on User @tag { id @skip(if: $skip) }
    """

    assert codes(query, QueryLimits(max_directives=7)) == [
        {"code": "QUERY_TOO_COMPLEX", "directives": 8, "maxDirectives": 7}
    ]


def test_fifty_directives_pass_and_fifty_one_do_not() -> None:
    def query(count: int) -> str:
        return "{ me { " + "id @include(if: true) " * count + "} }"

    assert codes(query(50)) == []
    assert codes(query(51))[0]["directives"] == 51


def test_circular_fragments_are_a_validation_error_not_a_crash() -> None:
    query = """
    { me { ...A } }
    fragment A on User { ...B }
    fragment B on User { name ...A }
    """

    messages = [error.message for error in errors(query)]

    assert messages == ["Cannot spread fragment 'A' within itself via 'B'."]


def test_an_unknown_fragment_is_a_validation_error_not_a_crash() -> None:
    messages = [error.message for error in errors("{ me { ...Missing } }")]

    assert messages == ["Unknown fragment 'Missing'."]


def test_doubling_fragments_are_measured_in_linear_time() -> None:
    depth = 40
    query = (
        "{ ...F0 }\n"
        + "".join(
            f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n"
            for i in range(depth)
        )
        + f"fragment F{depth} on Query {{ a: me {{ id }} }}"
    )

    started = time.perf_counter()
    found = codes(query)
    elapsed = time.perf_counter() - started

    assert found == [
        {"code": "QUERY_TOO_COMPLEX", "aliases": 2**depth, "maxAliases": 15}
    ]
    assert elapsed < 1.0


@pytest.mark.parametrize(
    "query",
    [
        'mutation { a: login(email: "x") b: login(email: "y") }',
        'mutation { login(email: "x") again: login(email: "x") }',
        'mutation { a: login(email: "x") ...M }'
        ' fragment M on Mutation { b: login(email: "y") }',
        'mutation { ... on Mutation { a: resetPassword(token: "x") }'
        ' b: resetPassword(token: "y") }',
        'mutation { a: refreshToken(token: "x") b: refreshToken(token: "y") }',
        'mutation { a: requestPasswordReset(email: "x")'
        ' b: requestPasswordReset(email: "y") }',
    ],
)
def test_brute_forceable_mutations_may_appear_once(query: str) -> None:
    found = codes(query)

    assert len(found) == 1
    assert found[0]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.parametrize(
    "query",
    [
        'mutation { login(email: "x") refreshToken(token: "y") }',
        'mutation { login(email: "x") login(email: "x") }',
        'mutation { ...M ...M } fragment M on Mutation { login(email: "x") }',
        "mutation { a: logout b: logout c: logout }",
    ],
)
def test_one_login_per_operation_is_fine(query: str) -> None:
    assert codes(query) == []


def test_a_refused_mutation_runs_no_resolver() -> None:
    calls: list[str] = []

    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def login(self, email: str) -> bool:
            calls.append(email)
            return False

    schema = strawberry.Schema(
        Query, Mutation, extensions=document_defences(SchemaPolicy())
    )

    result = schema.execute_sync(
        'mutation { a: login(email: "a") b: login(email: "b") }'
    )

    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "field": "login",
    }
    assert calls == []


async def test_the_introspection_query_of_graphiql_fits_every_default_limit() -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )

    result = await build_trackql_schema().execute(query)

    assert result.errors is None


async def test_nested_introspection_is_bounded() -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name }"
    query += " } } } } } } }"

    result = await build_trackql_schema().execute(query)

    assert result.errors is not None
    assert result.errors[0].message == "Maximum introspection depth exceeded"


async def test_a_repeated_document_is_parsed_checked_and_costed_once() -> None:
    schema = build_trackql_schema()
    query = "query CheckedOnce { __typename }"
    caches = [
        ParserCache(maxsize=CACHE_SIZE).cached_parse_document,
        ValidationCache(maxsize=CACHE_SIZE).cached_validate_document,
        cached_plan,
    ]
    await schema.execute(query)
    before = [cache.cache_info() for cache in caches]

    await schema.execute(query)

    after = [cache.cache_info() for cache in caches]
    assert [a.hits - b.hits for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert [a.misses - b.misses for a, b in zip(after, before, strict=True)] == [
        0,
        0,
        0,
    ]


@pytest.mark.parametrize(
    "query",
    ["{ __typename }\n" + "#" * 15_000, "{ " + "__typename " * 1_000 + "}"],
)
async def test_streaming_transports_get_the_limit_error_as_a_result(
    query: str,
) -> None:
    # WebSockets and SSE run every operation through Schema.stream.
    stream = await build_trackql_schema().stream(query, operation_name="Named")

    results = [result async for result in stream]

    assert len(results) == 1
    assert isinstance(results[0], PreExecutionError)
    assert results[0].errors is not None
    assert results[0].errors[0].extensions is not None
    assert results[0].errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
