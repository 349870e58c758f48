"""The cost formula of graph/cost.py, on a schema shaped like the public outline."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import build_schema, parse

from graph.cost import compile_cost
from graph.settings import QueryLimits

SCHEMA = build_schema("""
type Query {
  me: User
  projects(first: Int, after: String, last: Int, before: String): ProjectConnection!
}
type PageInfo { hasNextPage: Boolean! endCursor: String }
type User { id: ID! name: String! }
type Project {
  id: ID!
  name: String!
  owner: User!
  members: [ProjectMember!]!
  tasks(first: Int, after: String, last: Int, before: String): TaskConnection!
}
type ProjectMember { user: User! role: String! }
type Task { id: ID! title: String! assignee: User project: Project! }
type ProjectEdge { cursor: String! node: Project! }
type ProjectConnection {
  edges: [ProjectEdge!]! nodes: [Project!]! pageInfo: PageInfo! totalCount: Int!
}
type TaskEdge { cursor: String! node: Task! }
type TaskConnection {
  edges: [TaskEdge!]! nodes: [Task!]! pageInfo: PageInfo! totalCount: Int!
}
""")

BOARD = """
{ projects(first: 20) { edges { node {
    owner { name }
    members { user { name } }
    tasks(first: 10) { edges { node { title assignee { name } } } }
} } } }
"""
BOARD_NODES = """
{ projects(first: 20) { nodes {
    owner { name }
    members { user { name } }
    tasks(first: 10) { nodes { title assignee { name } } }
} } }
"""
PROJECT_NAMES = "query ($n: Int) { projects(first: $n) { nodes { name } } }"


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return compile_cost(SCHEMA, parse(query)).evaluate(None, variables)


def test_the_board_query_fits_the_default_limit_with_room_to_spare() -> None:
    edges, nodes = cost(BOARD), cost(BOARD_NODES)

    assert (edges, nodes) == (1_921, 1_701)
    assert max(edges, nodes) <= QueryLimits().max_cost // 2


def test_every_field_costs_one() -> None:
    assert cost("{ me { id name } }") == 3


def test_a_list_without_first_multiplies_its_selection_by_twenty() -> None:
    assert cost("{ projects(first: 1) { nodes { members { role } } } }") == 23


def test_a_connection_without_first_multiplies_by_twenty() -> None:
    assert cost("{ projects { totalCount } }") == 21


@pytest.mark.parametrize(
    ("argument", "expected"),
    [("first: 5", 11), ("last: 7", 15), ("first: 2, last: 3", 7), ("first: 0", 1)],
)
def test_literal_first_or_last_is_the_multiplier(argument: str, expected: int) -> None:
    assert cost(f"{{ projects({argument}) {{ nodes {{ name }} }} }}") == expected


def test_pages_the_resolvers_refuse_are_clamped_to_what_they_accept() -> None:
    assert cost("{ projects(first: 1000) { nodes { name } } }") == 201
    assert cost("{ projects(first: -5) { nodes { name } } }") == 1


@pytest.mark.parametrize(
    ("variables", "expected"),
    [({"n": 50}, 101), ({}, 41), ({"n": None}, 41), ({"n": "ten"}, 41)],
)
def test_first_from_a_variable_is_read_per_request(
    variables: dict[str, Any], expected: int
) -> None:
    assert cost(PROJECT_NAMES, variables) == expected


def test_a_variables_default_applies_when_it_is_not_given() -> None:
    query = "query ($n: Int = 5) { projects(first: $n) { nodes { name } } }"

    assert cost(query) == 11
    assert cost(query, {"n": 30}) == 61


def test_fragments_and_inline_fragments_cost_what_they_expand_to() -> None:
    with_fragments = """
    { projects(first: 20) { edges { node { ...Card ... on Project { id } } } } }
    fragment Card on Project { owner { name } tasks(first: 10) { ...Tasks } }
    fragment Tasks on TaskConnection { nodes { title } }
    """
    inline = """
    { projects(first: 20) { edges { node {
        owner { name } tasks(first: 10) { nodes { title } } id
    } } } }
    """

    assert cost(with_fragments) == cost(inline) == 1 + 20 * (1 + 1 + 2 + 21 + 1)


def test_a_fragment_spread_twice_counts_twice() -> None:
    query = "{ me { ...N ...N } } fragment N on User { name }"

    assert cost(query) == 3


def test_doubling_fragments_are_costed_in_linear_time() -> None:
    depth = 40
    fragments = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(depth)
    )
    query = "{ ...F0 }\n" + fragments + f"fragment F{depth} on Query {{ me {{ id }} }}"
    variable = query.replace("{ me { id } }", "{ projects(first: $n) { totalCount } }")
    variable = "query ($n: Int) " + variable

    started = time.perf_counter()
    fixed, scaled = cost(query), cost(variable, {"n": 3})
    elapsed = time.perf_counter() - started

    assert fixed == 2 * 2**depth
    assert scaled == 4 * 2**depth
    assert elapsed < 1.0


def test_introspection_costs_one_per_root() -> None:
    query = "{ __schema { types { name fields { name type { name } } } } }"

    assert cost(query) == 1


def test_the_named_operation_is_the_one_costed() -> None:
    document = parse(
        "query Small { me { id } } query Large { projects { totalCount } }"
    )
    plan = compile_cost(SCHEMA, document)

    assert plan.evaluate("Small", None) == 2
    assert plan.evaluate("Large", None) == 21
