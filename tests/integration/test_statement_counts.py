"""The number of SQL statements of a request is bounded by the depth of the query,
not by the number of rows: every edge is one batched statement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.models import User
from graph.settings import QueryLimits, Settings
from tests.conftest import POSTGRES_URL, ClientFor, GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import gid

NESTED = """
query ($projects: Int!, $tasks: Int!) {
  projects(first: $projects) {
    nodes {
      name
      owner { email }
      members { role user { email } }
      tasks(first: $tasks) { nodes { title assignee { email } } }
    }
  }
}
"""


async def arrange(viewer: User, projects: int, tasks: int) -> None:
    for _ in range(projects):
        owner, member = (
            await UserFactory.create_async(),
            await UserFactory.create_async(),
        )
        project = await project_with_members(owner, member, viewer)
        for n in range(tasks + 2):
            assignee = (owner, member, viewer, None)[n % 4]
            await TaskFactory.create_async(
                project_id=project.id, assignee_id=assignee and assignee.id
            )


async def run(
    gql: GraphQLClient, token: str, count_statements: Any, projects: int, tasks: int
) -> tuple[int, dict[str, Any]]:
    with count_statements() as log:
        result = await gql.as_user(token)(
            NESTED, {"projects": projects, "tasks": tasks}
        )
    return log.count, result


async def test_twenty_projects_with_owner_members_and_ten_tasks_take_six_statements(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    await arrange(viewer, projects=20, tasks=10)
    token = await token_for(viewer)

    statements, result = await run(gql, token, count_statements, 20, 10)

    nodes = result["data"]["projects"]["nodes"]
    assert len(nodes) == 20
    assert all(len(p["tasks"]["nodes"]) == 10 for p in nodes)
    assert all(len(p["members"]) == 3 for p in nodes)
    assert statements <= 6
    # Asked again, the page reuses its statements and lookahead answers: the same
    # answer from as many statements.
    assert await run(gql, token, count_statements, 20, 10) == (statements, result)


OWNERS = "{ projects(first: 10) { nodes { name owner { name email %s } } } }"


async def test_owners_shown_without_timestamps_come_with_their_page(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    owners = [await UserFactory.create_async() for _ in range(3)]
    for owner in owners:
        await project_with_members(owner, viewer, name=f"by {owner.name}")
    token = await token_for(viewer)

    with count_statements() as log:
        plain = await gql.as_user(token)(OWNERS % "")
    with count_statements() as dated_log:
        dated = await gql.as_user(token)(OWNERS % "createdAt")

    shown = {
        (p["name"], p["owner"]["name"], p["owner"]["email"])
        for p in plain["data"]["projects"]["nodes"]
    }
    assert shown == {(f"by {o.name}", o.name, o.email) for o in owners}
    # The session check, then the page with its owners.
    assert len(log.statements) == 2, log.statements
    # A timestamp the page does not read: the owners' own statement, as before.
    assert len(dated_log.statements) == 3, dated_log.statements
    assert all(p["owner"]["createdAt"] for p in dated["data"]["projects"]["nodes"])


async def test_doubling_the_rows_adds_no_statement(
    settings: Settings, client_for: ClientFor, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    await arrange(viewer, projects=40, tasks=20)
    token = await token_for(viewer)
    # The doubled board costs more than the default limit allows; the limit is not
    # what this test is about.
    roomy = replace(settings, query_limits=QueryLimits(max_cost=50_000))

    async with client_for(roomy) as http:
        gql = GraphQLClient(http)
        small, _ = await run(gql, token, count_statements, 20, 10)
        large, result = await run(gql, token, count_statements, 40, 20)

    assert len(result["data"]["projects"]["nodes"]) == 40
    assert all(
        len(p["tasks"]["nodes"]) == 20 for p in result["data"]["projects"]["nodes"]
    )
    assert large == small


async def read_users(
    gql: GraphQLClient, token: str, count_statements: Any, users: list[User]
) -> tuple[list[str], dict[str, Any]]:
    """The statements and answer of one document with a `user(id:)` per user."""
    fields = " ".join(
        f'u{n}: user(id: "{gid("User", user.id)}") {{ email }}'
        for n, user in enumerate(users)
    )
    document = f"{{ {fields} }}"
    with count_statements() as log:
        answer = await gql.as_user(token)(document)
    return log.statements, answer


async def test_sibling_fields_share_one_session_check_and_one_batch(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer, *users = [await UserFactory.create_async() for _ in range(4)]

    statements, answer = await read_users(
        gql, await token_for(viewer), count_statements, users
    )

    assert answer == {
        "data": {f"u{n}": {"email": u.email} for n, u in enumerate(users)}
    }
    # The session check with the first field's user, then the other two in one.
    assert len(statements) == 2, statements


@pytest.mark.parametrize(
    "read",
    [
        '{ user(id: "OTHER") { email } }',
        '{ node(id: "OTHER") { ... on User { email } } }',
        '{ user(id: "SELF") { email } }',
    ],
)
async def test_a_user_by_id_comes_with_the_session_check(
    gql: GraphQLClient, token_for: Any, count_statements: Any, read: str
) -> None:
    viewer, other = await UserFactory.create_async(), await UserFactory.create_async()
    document = read.replace("OTHER", gid("User", other.id)).replace(
        "SELF", gid("User", viewer.id)
    )
    shown = viewer if "SELF" in read else other
    viewer_gql = gql.as_user(await token_for(viewer))

    with count_statements() as log:
        answer = await viewer_gql(document)

    field = "user" if "user(" in read else "node"
    assert answer == {"data": {field: {"email": shown.email}}}
    assert log.count == 1, log.statements


async def test_an_unknown_user_by_id_is_not_found_in_the_session_checks_statement(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    viewer_gql = gql.as_user(await token_for(viewer))

    with count_statements() as log:
        answer = await viewer_gql(
            f'{{ user(id: "{gid("User", viewer.id + 1000)}") {{ email }} }}'
        )

    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert log.count == 1, log.statements


@pytest.mark.skipif(POSTGRES_URL is None, reason="SQLite has no array parameters")
async def test_postgresql_reads_any_number_of_users_with_one_statement_text(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer, ann, bob, cy = [await UserFactory.create_async() for _ in range(4)]
    token = await token_for(viewer)

    # The first field's user comes with the session check; the rest in a batch.
    one, _ = await read_users(gql, token, count_statements, [ann, bob])
    two, _ = await read_users(gql, token, count_statements, [ann, bob, cy])

    # One text, so one prepared statement, whatever the number of ids in the batch.
    assert one == two


async def test_counts_and_viewer_fields_are_batched_too(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    await arrange(viewer, projects=10, tasks=3)
    token = await token_for(viewer)
    document = """{ projects { totalCount nodes { viewerCanUpdate
      tasks(first: 2) { totalCount nodes { viewerCanUpdate project { name } } } } } }"""

    with count_statements() as log:
        result = await gql.as_user(token)(document)

    assert result["data"]["projects"]["totalCount"] == 10
    assert log.count <= 6, log.statements


PENDING_PAGE = """
query ($p: ID!, $after: String) {
  tasks(first: 2, after: $after, filter: {projectId: $p, status: PENDING}) {
    totalCount nodes { title } pageInfo { endCursor }
  }
}
"""


async def test_a_task_page_with_its_total_count_takes_two_statements_with_the_session(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    project = await project_with_members(viewer)
    for n in range(3):
        await TaskFactory.create_async(project_id=project.id, title=f"t{n}")
    await TaskFactory.create_async(project_id=project.id, is_completed=True)
    viewer_gql = gql.as_user(await token_for(viewer))
    variables = {"p": gid("Project", project.id)}

    with count_statements() as log:
        first = await viewer_gql(PENDING_PAGE, variables)
    cursor = first["data"]["tasks"]["pageInfo"]["endCursor"]
    second = await viewer_gql(PENDING_PAGE, {**variables, "after": cursor})
    last = second["data"]["tasks"]["pageInfo"]["endCursor"]
    beyond = await viewer_gql(PENDING_PAGE, {**variables, "after": last})

    assert log.count == 2, log.statements
    assert [n["title"] for n in first["data"]["tasks"]["nodes"]] == ["t0", "t1"]
    assert first["data"]["tasks"]["totalCount"] == 3
    assert [n["title"] for n in second["data"]["tasks"]["nodes"]] == ["t2"]
    assert second["data"]["tasks"]["totalCount"] == 3
    assert beyond["data"]["tasks"] == {
        "totalCount": 3,
        "nodes": [],
        "pageInfo": {"endCursor": None},
    }


async def test_me_comes_with_the_session_check(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    viewer = await UserFactory.create_async()
    viewer_gql = gql.as_user(await token_for(viewer))

    with count_statements() as log:
        answer = await viewer_gql("{ me { email name } }")

    assert answer == {"data": {"me": {"email": viewer.email, "name": viewer.name}}}
    assert log.count == 1, log.statements


async def test_a_mutation_shows_the_caller_as_its_fields_changed_them(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = await UserFactory.create_async(name="Before")
    project = await project_with_members(viewer)
    document = """mutation ($me: ID!, $project: ID!) {
      updateUser(id: $me, input: {name: "After"}) { name }
      createTask(input: {projectId: $project, title: "t", assigneeId: $me}) {
        assignee { name }
      }
    }"""
    variables = {"me": gid("User", viewer.id), "project": gid("Project", project.id)}

    answer = await gql.as_user(await token_for(viewer))(document, variables)

    assert answer == {
        "data": {
            "updateUser": {"name": "After"},
            "createTask": {"assignee": {"name": "After"}},
        }
    }
