"""Inputs the fuzz session found to fail as internal errors: each is now refused as
bad input, and changes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, gid

PROJECT = "query ($id: ID!) { project(id: $id) { name } }"
NODE = "query ($id: ID!) { node(id: $id) { id } }"
CREATE_PROJECT = """
mutation ($name: String!) { createProject(input: {name: $name}) { id } }
"""
COUNT = "{ projects { totalCount } }"
TITLES = """
query ($after: String) {
  tasks(first: 1, after: $after, orderBy: {field: TITLE}) {
    edges { cursor node { title } }
  }
}
"""


@pytest.fixture
async def viewer(gql: GraphQLClient, token_for: Any) -> GraphQLClient:
    return gql.as_user(await token_for(await UserFactory.create_async()))


@pytest.mark.parametrize(
    "raw_id",
    [
        gid("Project", 2**31),
        str(2**31),
        "²",  # a digit to str.isdigit(), not to int()
        base64.b64encode("Project:²".encode()).decode(),
    ],
)
async def test_an_id_no_row_can_have_is_bad_user_input(
    viewer: GraphQLClient, raw_id: str
) -> None:
    result = await viewer(PROJECT, {"id": raw_id})

    assert error_code(result) == "BAD_USER_INPUT"


async def test_node_of_an_id_beyond_the_id_column_is_null(
    viewer: GraphQLClient,
) -> None:
    result = await viewer(NODE, {"id": gid("Task", 2**64)})

    assert result == {"data": {"node": None}}


async def test_the_largest_storable_id_is_simply_not_found(
    viewer: GraphQLClient,
) -> None:
    result = await viewer(PROJECT, {"id": gid("Project", 2**31 - 1)})

    assert error_code(result) == "NOT_FOUND"


@pytest.mark.parametrize("where", ["variable", "\\u0000", "\\u{0}"])
async def test_text_with_a_nul_character_is_refused_and_stores_nothing(
    viewer: GraphQLClient, where: str
) -> None:
    if where == "variable":
        result = await viewer(CREATE_PROJECT, {"name": "Apollo\x00"})
    else:
        literal = (
            f'mutation {{ createProject(input: {{name: "Apollo{where}"}}) {{ id }} }}'
        )
        result = await viewer(literal)
    counts = await viewer(COUNT)

    assert error_code(result) == "BAD_USER_INPUT"
    assert result["data"] is None
    assert counts["data"]["projects"]["totalCount"] == 0


async def test_a_nul_character_in_a_search_or_a_login_is_bad_user_input(
    gql: GraphQLClient, viewer: GraphQLClient
) -> None:
    search = await viewer(
        "query ($s: String) { projects(filter: {search: $s}) { totalCount } }",
        {"s": "a\x00b"},
    )
    login = await gql(
        "mutation ($e: String!) { login(input: {email: $e, password: "
        '"long enough password"}) { accessToken } }',
        {"e": "ann\x00@example.com"},
    )

    assert error_code(search) == "BAD_USER_INPUT"
    assert error_code(login) == "BAD_USER_INPUT"


def reforged(cursor: str, change: Any) -> str:
    """The cursor with its sort values replaced: cursors are opaque, not secret."""
    signature, values = json.loads(base64.urlsafe_b64decode(cursor + "=="))
    raw = json.dumps([signature, change(values)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: [v[0], 2**31], id="id beyond INTEGER"),
        pytest.param(lambda v: ["Apollo\x00", v[1]], id="nul in the title"),
    ],
)
async def test_a_hand_made_cursor_sql_cannot_compare_is_bad_user_input(
    gql: GraphQLClient, token_for: Any, change: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    await TaskFactory.create_batch_async(2, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    first = await viewer(TITLES)
    cursor = first["data"]["tasks"]["edges"][0]["cursor"]

    result = await viewer(TITLES, {"after": reforged(cursor, change)})

    assert error_code(result) == "BAD_USER_INPUT"


async def test_a_deeply_nested_cursor_is_bad_user_input(viewer: GraphQLClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 100_000).decode()

    result = await viewer(TITLES, {"after": cursor})

    assert error_code(result) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"]
)
async def test_a_datetime_that_leaves_the_calendar_in_utc_is_bad_user_input(
    viewer: GraphQLClient, moment: str
) -> None:
    result = await viewer(
        "query ($d: DateTime) { tasks(filter: {dueBefore: $d}) { totalCount } }",
        {"d": moment},
    )
    literal = await viewer(
        f'{{ tasks(filter: {{dueAfter: "{moment}"}}) {{ totalCount }} }}'
    )

    assert error_code(result) == "BAD_USER_INPUT"
    assert error_code(literal) == "BAD_USER_INPUT"
