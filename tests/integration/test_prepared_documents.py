"""A document seen before skips Strawberry's pipeline (graph/fast_path.py) and must
answer exactly as the first time: data, errors, codes, status and headers alike,
refusals included."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from graph.prepared import recall
from graph.view import GraphQLView
from tests.conftest import GraphQLClient
from tests.factories import UserFactory
from tests.integration.graphql import error_code
from tests.integration.test_projects import CREATE_PROJECT, PROJECTS
from tests.integration.test_query_limits import THREE_PAGES

ME = "{ me { email name } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def remembered(app: Starlette, query: str) -> bool:
    view = next(
        route.endpoint
        for route in app.routes
        if isinstance(route, Route) and isinstance(route.endpoint, GraphQLView)
    )
    return recall(view.schema._schema, query) is not None


async def post(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    token: str | None = None,
    **headers: str,
) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json=body, headers=headers)


def answer(response: httpx.Response) -> tuple[int, str | None, str | None, Any]:
    headers = response.headers
    return (
        response.status_code,
        headers["content-type"],
        headers.get("vary"),
        response.json(),
    )


async def test_a_valid_document_is_remembered_and_answered_alike(
    app: Starlette, client: httpx.AsyncClient, token_for: Any
) -> None:
    user = await UserFactory.create_async()
    token = await token_for(user)
    assert not remembered(app, ME)

    first = await post(client, {"query": ME}, token)
    again = await post(client, {"query": ME}, token)

    assert remembered(app, ME)
    assert answer(again) == answer(first)
    assert again.json() == {"data": {"me": {"email": user.email, "name": user.name}}}


async def test_an_invalid_document_is_not_remembered(
    app: Starlette, gql: GraphQLClient
) -> None:
    typo = "{ me { emial } }"

    result = await gql(typo)

    assert error_code(result) == "BAD_USER_INPUT"
    assert not remembered(app, typo)


async def test_field_errors_keep_their_code_the_second_time(
    client: httpx.AsyncClient,
) -> None:
    first = await post(client, {"query": ME})
    again = await post(client, {"query": ME})

    assert answer(again) == answer(first)
    assert error_code(again.json()) == "UNAUTHENTICATED"


async def test_variables_over_the_cost_limit_are_refused_the_second_time(
    client: httpx.AsyncClient, token_for: Any, count_statements: Any
) -> None:
    token = await token_for(await UserFactory.create_async())
    allowed = await post(client, {"query": THREE_PAGES, "variables": {"n": 20}}, token)

    with count_statements() as log:
        refused = await post(
            client, {"query": THREE_PAGES, "variables": {"n": 100}}, token
        )

    assert "errors" not in allowed.json()
    assert refused.json()["errors"][0]["extensions"]["cost"] == 6_003
    assert refused.json()["data"] is None
    assert log.count == 0


async def test_variables_that_fail_coercion_are_refused_alike(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    token = await token_for(await UserFactory.create_async())
    body = {"query": PROJECTS, "variables": {"filter": {"ownedByMe": "yes"}}}

    for accept in ("application/json", GRAPHQL_RESPONSE):
        first = await post(client, body, token, accept=accept)
        again = await post(client, body, token, accept=accept)

        assert answer(again) == answer(first)
    assert first.status_code == 400
    assert "data" not in first.json()
    assert error_code(first.json()) == "BAD_USER_INPUT"


async def test_an_unknown_operation_name_is_refused_alike(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    token = await token_for(await UserFactory.create_async())
    await post(client, {"query": ME}, token)

    first = await post(client, {"query": ME, "operationName": "Nope"}, token)
    again = await post(client, {"query": ME, "operationName": "Nope"}, token)

    assert answer(again) == answer(first)
    assert error_code(first.json()) == "BAD_USER_INPUT"


async def test_a_remembered_mutation_commits_and_refuses_nul_text(
    client: httpx.AsyncClient, gql: GraphQLClient, token_for: Any
) -> None:
    token = await token_for(await UserFactory.create_async())
    viewer = gql.as_user(token)

    created = [
        await viewer(CREATE_PROJECT, {"input": {"name": name}})
        for name in ("Apollo", "Gemini")
    ]
    refused = await viewer(CREATE_PROJECT, {"input": {"name": "Mer\x00cury"}})
    listed = await viewer(PROJECTS)

    assert [c["data"]["createProject"]["name"] for c in created] == ["Apollo", "Gemini"]
    assert error_code(refused) == "BAD_USER_INPUT"
    assert sorted(p["name"] for p in listed["data"]["projects"]["nodes"]) == [
        "Apollo",
        "Gemini",
    ]


async def test_a_query_asking_for_a_stream_is_answered_alike(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    token = await token_for(await UserFactory.create_async())
    multipart = "multipart/mixed;subscriptionSpec=1.0, application/json"

    first = await post(client, {"query": ME}, token, accept=multipart)
    again = await post(client, {"query": ME}, token, accept=multipart)

    assert answer(again) == answer(first)
    assert "errors" not in again.json()
