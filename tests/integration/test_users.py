from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import UserFactory
from tests.integration.graphql import gid

USERS_PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter) {
  users(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    edges { cursor node { id email name } }
    nodes { email }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_paginates_fifteen_users_in_pages_of_ten_and_five(
    gql: GraphQLClient, token_for: Any
) -> None:
    users = [await UserFactory.create_async() for _ in range(15)]
    viewer = gql.as_user(await token_for(users[0]))

    first = (await viewer(USERS_PAGE, {"first": 10}))["data"]["users"]
    after = first["pageInfo"]["endCursor"]
    second = (await viewer(USERS_PAGE, {"first": 10, "after": after}))["data"]["users"]

    assert first["totalCount"] == second["totalCount"] == 15
    assert len(first["edges"]) == 10
    assert len(second["edges"]) == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    seen = [e["node"]["email"] for e in first["edges"] + second["edges"]]
    assert seen == [u.email for u in users]
    assert [n["email"] for n in second["nodes"]] == seen[10:]


async def test_pages_backwards_with_last_and_before(
    gql: GraphQLClient, token_for: Any
) -> None:
    users = [await UserFactory.create_async() for _ in range(7)]
    viewer = gql.as_user(await token_for(users[0]))

    tail = (await viewer(USERS_PAGE, {"last": 3}))["data"]["users"]
    before = tail["pageInfo"]["startCursor"]
    middle = (await viewer(USERS_PAGE, {"last": 3, "before": before}))["data"]["users"]

    assert [n["email"] for n in tail["nodes"]] == [u.email for u in users[4:]]
    assert [n["email"] for n in middle["nodes"]] == [u.email for u in users[1:4]]
    assert middle["pageInfo"]["hasPreviousPage"] is True
    assert middle["pageInfo"]["hasNextPage"] is True


async def test_search_matches_name_or_email_ignoring_case(
    gql: GraphQLClient, token_for: Any
) -> None:
    alice = await UserFactory.create_async(name="Alice Liddell")
    await UserFactory.create_async(name="Bob", email="ALICE.b@example.com")
    await UserFactory.create_async(name="Carol", email="carol@example.com")
    viewer = gql.as_user(await token_for(alice))

    found = await viewer(USERS_PAGE, {"filter": {"search": "alice"}})

    assert found["data"]["users"]["totalCount"] == 2
    assert {n["email"] for n in found["data"]["users"]["nodes"]} == {
        alice.email,
        "ALICE.b@example.com",
    }


async def test_search_treats_wildcards_literally(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer_user = await UserFactory.create_async(name="Plain")
    await UserFactory.create_async(name="100% sure")
    viewer = gql.as_user(await token_for(viewer_user))

    found = await viewer(USERS_PAGE, {"filter": {"search": "%"}})

    assert [n["email"] for n in found["data"]["users"]["nodes"]] != []
    assert found["data"]["users"]["totalCount"] == 1


async def test_cursor_from_another_filter_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    users = [await UserFactory.create_async() for _ in range(3)]
    viewer = gql.as_user(await token_for(users[0]))
    page = await viewer(USERS_PAGE, {"first": 1})
    cursor = page["data"]["users"]["pageInfo"]["endCursor"]

    result = await viewer(
        USERS_PAGE, {"first": 1, "after": cursor, "filter": {"search": "user"}}
    )

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "after" in result["errors"][0]["extensions"]["fields"]


async def test_first_over_one_hundred_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    result = await viewer(USERS_PAGE, {"first": 101})

    assert result["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"first": "must be between 0 and 100"},
    }


async def test_unknown_user_is_not_found_with_its_id(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    result = await viewer('{ user(id: "999") { id } }')

    assert result["errors"][0]["message"] == "User 999 not found"
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_node_refetches_a_user_by_global_id(
    gql: GraphQLClient, token_for: Any
) -> None:
    user = await UserFactory.create_async()
    viewer = gql.as_user(await token_for(user))
    me = (await viewer("{ me { id email } }"))["data"]["me"]

    node = await viewer(
        "query ($id: ID!) { node(id: $id) { id ... on User { email } } }",
        {"id": me["id"]},
    )
    user_by_id = await viewer(
        "query ($id: ID!) { user(id: $id) { email } }", {"id": me["id"]}
    )

    assert node["data"]["node"] == me
    assert user_by_id["data"]["user"]["email"] == user.email


async def test_node_of_an_unknown_id_is_null(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    result = await viewer(
        '{ node(id: "VXNlcjo5OTk5") { id } missing: node(id: "junk") { id } }'
    )

    assert result == {"data": {"node": None, "missing": None}}


async def test_me_without_a_token_is_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql("{ me { id } }")

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_malformed_id_without_a_token_is_unauthenticated_first(
    gql: GraphQLClient,
) -> None:
    result = await gql('{ user(id: "not an id") { email } }')

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_is_unauthenticated_not_a_plain_400(
    gql: GraphQLClient,
) -> None:
    result = await gql("{ users { totalCount } }", token="not-a-jwt")

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "read",
    [
        "{ me { id } }",
        # These read the user by id in the session check's own statement.
        '{ user(id: "USER") { email } }',
        '{ node(id: "USER") { ... on User { email } } }',
    ],
)
async def test_a_deactivated_users_token_is_refused_at_once(
    gql: GraphQLClient, token_for: Any, session: Any, read: str
) -> None:
    user, other = await UserFactory.create_async(), await UserFactory.create_async()
    viewer = gql.as_user(await token_for(user))
    user.is_active = False
    await session.commit()

    result = await viewer(read.replace("USER", gid("User", other.id)))

    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert other.email not in str(result)


async def test_timestamps_are_utc_with_microseconds(
    gql: GraphQLClient, token_for: Any
) -> None:
    user = await UserFactory.create_async()
    viewer = gql.as_user(await token_for(user))

    me = (await viewer("{ me { createdAt } }"))["data"]["me"]

    assert me["createdAt"] == user.created_at.isoformat(timespec="microseconds")
    assert me["createdAt"].endswith("+00:00")
