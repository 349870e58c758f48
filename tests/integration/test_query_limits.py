"""Every document limit over HTTP: QUERY_TOO_COMPLEX, data null, and no SQL at all."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from graph.settings import QueryLimits, Settings
from tests.conftest import ClientFor, GraphQLClient
from tests.factories import UserFactory

USER_FIELDS = "id email name role isActive isVerified createdAt updatedAt"
PAGE = f"edges {{ cursor node {{ {USER_FIELDS} }} }} nodes {{ {USER_FIELDS} }}"
# Each page costs 1 + first * (11 + 9): three pages of 100 cost 6,003.
THREE_PAGES = (
    "query ($n: Int) {"
    + "".join(f" p{i}: users(first: $n) {{ {PAGE} }}" for i in range(3))
    + " }"
)


def tokens(count: int) -> str:
    # Repeated `me { id }` rather than 1,000 `id`s: graphql-core's overlap check
    # recurses once per identical sibling and gives up near a thousand.
    repeats, rest = divmod(count - 2, 4)
    return "{ " + "me { id } " * repeats + "__typename " * rest + "}"


def padded_to(length: int) -> str:
    query = "{ me { id } }\n"
    return query + "#" * (length - len(query))


OVER_THE_LIMITS = {
    "length": padded_to(15_001),
    "tokens": tokens(1_001),
    "aliases": "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(16)) + " }",
    "directives": "{ me { " + "id @include(if: true) " * 51 + "} }",
    "cost": THREE_PAGES.replace("query ($n: Int) ", "").replace("$n", "100"),
}
WITHIN_THE_LIMITS = {
    "length": padded_to(15_000),
    "tokens": tokens(1_000),
    "aliases": "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(15)) + " }",
    "directives": "{ me { " + "id @include(if: true) " * 50 + "} }",
    "cost": THREE_PAGES.replace("query ($n: Int) ", "").replace("$n", "20"),
}


@pytest.fixture
async def viewer(gql: GraphQLClient, token_for: Any) -> GraphQLClient:
    return gql.as_user(await token_for(await UserFactory.create_async()))


@pytest.mark.parametrize("limit", sorted(OVER_THE_LIMITS))
async def test_a_document_over_a_limit_is_refused_before_any_sql(
    viewer: GraphQLClient, count_statements: Any, limit: str
) -> None:
    with count_statements() as log:
        result = await viewer(OVER_THE_LIMITS[limit])

    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert log.count == 0


@pytest.mark.parametrize("limit", sorted(WITHIN_THE_LIMITS))
async def test_a_document_at_a_limit_runs(
    viewer: GraphQLClient, count_statements: Any, limit: str
) -> None:
    with count_statements() as log:
        result = await viewer(WITHIN_THE_LIMITS[limit])

    assert "errors" not in result
    assert log.count > 0


async def test_the_cost_error_tells_the_cost_and_the_limit(
    viewer: GraphQLClient,
) -> None:
    result = await viewer(OVER_THE_LIMITS["cost"])

    assert result["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 6_003,
        "maxCost": 5_000,
    }


async def test_the_cost_counts_first_given_in_variables(
    viewer: GraphQLClient, count_statements: Any
) -> None:
    with count_statements() as log:
        refused = await viewer(THREE_PAGES, {"n": 100})
    allowed = await viewer(THREE_PAGES, {"n": 20})

    assert refused["errors"][0]["extensions"]["cost"] == 6_003
    assert log.count == 0
    assert "errors" not in allowed


async def test_limits_come_from_the_settings(
    client_for: ClientFor,
    settings: Settings,
    token_for: Any,
    count_statements: Any,
) -> None:
    tight = replace(settings, query_limits=QueryLimits(max_depth=3, max_cost=10))
    token = await token_for(await UserFactory.create_async())

    async with client_for(tight) as client:
        viewer = GraphQLClient(client, token)
        with count_statements() as log:
            deep = await viewer("{ users(first: 1) { edges { node { id } } } }")
            costly = await viewer("{ users(first: 5) { nodes { id } } }")
        shallow = await viewer("{ users(first: 1) { nodes { id } } }")

    assert deep["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "depth": 4,
        "maxDepth": 3,
    }
    assert costly["errors"][0]["extensions"]["maxCost"] == 10
    assert log.count == 0
    assert "errors" not in shallow


async def test_circular_fragments_are_a_validation_error(
    viewer: GraphQLClient,
) -> None:
    result = await viewer(
        "{ me { ...A } } fragment A on User { ...B } fragment B on User { id ...A }"
    )

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Cannot spread fragment 'A' within itself" in result["errors"][0]["message"]
