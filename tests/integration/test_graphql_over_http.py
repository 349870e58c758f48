"""The GraphQL over HTTP media type: request errors are 400 without `data`; the legacy
application/json keeps answering 200 with `data: null`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import UserFactory

GRAPHQL_RESPONSE = "application/graphql-response+json"
REQUEST_ERRORS = {
    "parse": ({"query": "{ me { id "}, "BAD_USER_INPUT"),
    "validation": ({"query": "{ me { nope } }"}, "BAD_USER_INPUT"),
    "variables": (
        {
            "query": "query ($n: Int) { users(first: $n) { totalCount } }",
            "variables": {"n": "ten"},
        },
        "BAD_USER_INPUT",
    ),
    "unknown operation": (
        {"query": "query A { __typename }", "operationName": "B"},
        "BAD_USER_INPUT",
    ),
    "limit": (
        {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"},
        "QUERY_TOO_COMPLEX",
    ),
}


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], accept: str
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": accept})


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_a_request_error_is_400_without_data(
    client: httpx.AsyncClient, kind: str
) -> None:
    body, code = REQUEST_ERRORS[kind]

    response = await post(client, body, GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_legacy_json_keeps_200_with_null_data(
    client: httpx.AsyncClient, kind: str
) -> None:
    body, code = REQUEST_ERRORS[kind]

    response = await post(client, body, "application/json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_an_execution_error_is_200_with_data(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ me { id } }"}, GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_success_is_200_in_the_new_media_type(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    token = await token_for(await UserFactory.create_async(name="Ada"))

    response = await client.post(
        "/graphql",
        json={"query": "{ me { name } }"},
        headers={"accept": GRAPHQL_RESPONSE, "authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"me": {"name": "Ada"}}}
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("*/*", "application/json"),
        ("", "application/json"),
    ],
)
async def test_the_media_type_follows_the_accept_weights(
    client: httpx.AsyncClient, accept: str, expected: str
) -> None:
    response = await post(client, {"query": "{ __typename }"}, accept)

    assert response.headers["content-type"] == expected


MALFORMED = {
    "no query": {"variables": {}},
    "query not a string": {"query": 1},
    "variables not an object": {"query": "{ __typename }", "variables": "x"},
    "extensions not an object": {"query": "{ __typename }", "extensions": []},
    "a batch": [{"query": "{ __typename }"}],
}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_a_malformed_request_is_400_with_a_graphql_error_body(
    client: httpx.AsyncClient, kind: str, accept: str
) -> None:
    response = await client.post(
        "/graphql", json=MALFORMED[kind], headers={"accept": accept}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == accept
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_body_that_is_not_json_is_400_in_the_accepted_media_type(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await client.post(
        "/graphql",
        content=b"{ me { id } }",
        headers={"accept": accept, "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == accept
    assert response.json()["errors"][0]["message"] == (
        "Unable to parse request body as JSON"
    )


async def test_a_query_over_get_answers_in_the_new_media_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_mutation_over_get_is_405_allowing_post(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { logout(refreshToken: "x") }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
