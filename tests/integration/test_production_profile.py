"""Production reveals less: no introspection unless asked for, no GraphiQL, no
"Did you mean ...?" hints."""

from __future__ import annotations

from typing import Any

import pytest

from graph.settings import Settings
from tests.conftest import SECRET, ClientFor, GraphQLClient

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = "{ users { nodes { nmae } } }"
BAD_ENUM = (
    "query ($f: UserFilter) { users(filter: $f) { totalCount } }",
    {"f": {"role": "ADMN"}},
)


def from_env(settings: Settings, **variables: str) -> Settings:
    return Settings.from_env(
        {
            "TRACKQL_SECRET_KEY": SECRET,
            "TRACKQL_DATABASE_URL": settings.database_url,
            **variables,
        }
    )


@pytest.fixture
def production(settings: Settings) -> Settings:
    return from_env(settings, TRACKQL_ENV="production")


@pytest.fixture
def development(settings: Settings) -> Settings:
    return from_env(settings, TRACKQL_ENV="development")


async def test_production_refuses_introspection(
    client_for: ClientFor, production: Settings
) -> None:
    async with client_for(production) as client:
        refused = await GraphQLClient(client)(INTROSPECTION)
        typename = await GraphQLClient(client)("{ __typename }")

    assert refused["data"] is None
    assert "introspection has been disabled" in refused["errors"][0]["message"]
    assert typename == {"data": {"__typename": "Query"}}


async def test_production_allows_introspection_when_configured(
    client_for: ClientFor, settings: Settings
) -> None:
    configured = from_env(
        settings, TRACKQL_ENV="production", TRACKQL_INTROSPECTION="true"
    )

    async with client_for(configured) as client:
        result = await GraphQLClient(client)(INTROSPECTION)

    assert result == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_development_allows_introspection(
    client_for: ClientFor, development: Settings
) -> None:
    async with client_for(development) as client:
        result = await GraphQLClient(client)(INTROSPECTION)

    assert "errors" not in result


@pytest.mark.parametrize(("query", "variables"), [(TYPO, None), BAD_ENUM])
async def test_production_gives_no_suggestions(
    client_for: ClientFor,
    production: Settings,
    token_for: Any,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    token = await _token(token_for)

    async with client_for(production) as client:
        result = await GraphQLClient(client, token)(query, variables)

    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Did you mean" not in result["errors"][0]["message"]


@pytest.mark.parametrize(("query", "variables"), [(TYPO, None), BAD_ENUM])
async def test_development_suggests_the_right_name(
    client_for: ClientFor,
    development: Settings,
    token_for: Any,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    token = await _token(token_for)

    async with client_for(development) as client:
        result = await GraphQLClient(client, token)(query, variables)

    assert "Did you mean" in result["errors"][0]["message"]


async def test_production_serves_no_graphiql(
    client_for: ClientFor, production: Settings
) -> None:
    async with client_for(production) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 404


async def _token(token_for: Any) -> str:
    from tests.factories import UserFactory

    token: str = await token_for(await UserFactory.create_async())
    return token
