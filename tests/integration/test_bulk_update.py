from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, error_fields, gid

BULK = """
mutation ($input: BulkUpdateTasksInput!) {
  bulkUpdateTasks(input: $input) {
    updatedCount
    tasks { id priority isCompleted completedAt updatedAt assignee { email } }
  }
}
"""
STATE = "{ tasks(first: 100) { nodes { id priority isCompleted updatedAt } } }"


def ids(tasks: list[Any]) -> list[str]:
    return [gid("Task", t.id) for t in tasks]


async def test_bulk_update_of_five_tasks_returns_updated_count_five(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    tasks = await TaskFactory.create_batch_async(5, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        BULK,
        {
            "input": {
                "taskIds": ids(tasks),
                "patch": {"isCompleted": True, "priority": 5},
            }
        },
    )

    payload = result["data"]["bulkUpdateTasks"]
    assert payload["updatedCount"] == 5
    assert [t["id"] for t in payload["tasks"]] == ids(tasks)
    assert all(t["isCompleted"] and t["completedAt"] for t in payload["tasks"])
    assert {t["priority"] for t in payload["tasks"]} == {5}
    assert all(
        t["updatedAt"] > before.updated_at.isoformat()
        for t, before in zip(payload["tasks"], tasks, strict=True)
    )


async def test_bulk_update_assigns_members_and_refuses_outsiders(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    outsider = await UserFactory.create_async()
    project = await project_with_members(owner, member)
    tasks = await TaskFactory.create_batch_async(3, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    assigned = await viewer(
        BULK,
        {
            "input": {
                "taskIds": ids(tasks),
                "patch": {"assigneeId": gid("User", member.id)},
            }
        },
    )
    refused = await viewer(
        BULK,
        {
            "input": {
                "taskIds": ids(tasks),
                "patch": {"assigneeId": gid("User", outsider.id)},
            }
        },
    )

    assert {
        t["assignee"]["email"] for t in assigned["data"]["bulkUpdateTasks"]["tasks"]
    } == {member.email}
    assert error_code(refused) == "BAD_USER_INPUT"
    assert set(error_fields(refused)) == {"assigneeId"}


async def test_more_than_500_ids_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    result = await viewer(
        BULK,
        {
            "input": {
                "taskIds": [str(n) for n in range(1, 502)],
                "patch": {"priority": 1},
            }
        },
    )

    assert error_code(result) == "BAD_USER_INPUT"
    assert error_fields(result) == {"taskIds": "at most 500 ids per call"}


async def test_mixing_another_users_tasks_changes_nothing_and_names_them(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    mine = await TaskFactory.create_batch_async(
        3, project_id=(await project_with_members(me)).id, priority=2
    )
    theirs = await TaskFactory.create_batch_async(
        2, project_id=(await project_with_members(other)).id, priority=2
    )
    viewer = gql.as_user(await token_for(me))
    before = await viewer(STATE)

    result = await viewer(
        BULK,
        {
            "input": {
                "taskIds": [
                    *ids([mine[0], theirs[0], mine[1], theirs[1], mine[2]]),
                    "999999",
                ],
                "patch": {"priority": 5},
            }
        },
    )
    after = await viewer(STATE)

    assert error_code(result) == "NOT_FOUND"
    message = result["errors"][0]["message"]
    for offending in (theirs[0].id, theirs[1].id, 999999):
        assert str(offending) in message
    named = {part.strip(" ,") for part in message.split()}
    assert named.isdisjoint(str(allowed.id) for allowed in mine)
    assert after == before


async def test_bulk_update_in_an_archived_project_is_conflict_and_changes_nothing(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    live = await project_with_members(owner)
    archived = await project_with_members(owner, is_archived=True)
    tasks = [
        await TaskFactory.create_async(project_id=live.id),
        await TaskFactory.create_async(project_id=archived.id),
    ]
    viewer = gql.as_user(await token_for(owner))
    before = await viewer(STATE)

    result = await viewer(
        BULK, {"input": {"taskIds": ids(tasks), "patch": {"priority": 1}}}
    )

    assert error_code(result) == "CONFLICT"
    assert str(tasks[1].id) in result["errors"][0]["message"]
    assert await viewer(STATE) == before


async def test_bulk_update_runs_a_constant_number_of_statements(
    gql: GraphQLClient, token_for: Any, count_statements: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, await UserFactory.create_async())
    few = await TaskFactory.create_batch_async(5, project_id=project.id)
    many = await TaskFactory.create_batch_async(200, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    patch = {"isCompleted": True, "assigneeId": gid("User", owner.id)}
    document = """mutation ($input: BulkUpdateTasksInput!) {
      bulkUpdateTasks(input: $input) { updatedCount } }"""

    with count_statements() as small:
        await viewer(document, {"input": {"taskIds": ids(few), "patch": patch}})
    with count_statements() as large:
        result = await viewer(
            document, {"input": {"taskIds": ids(many), "patch": patch}}
        )

    assert result["data"]["bulkUpdateTasks"]["updatedCount"] == 200
    assert large.count == small.count <= 4, large.statements


async def test_completing_again_keeps_the_first_completed_at(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    tasks = await TaskFactory.create_batch_async(2, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    first = await viewer(
        BULK, {"input": {"taskIds": ids(tasks[:1]), "patch": {"isCompleted": True}}}
    )

    both = await viewer(
        BULK, {"input": {"taskIds": ids(tasks), "patch": {"isCompleted": True}}}
    )
    reopened = await viewer(
        BULK, {"input": {"taskIds": ids(tasks), "patch": {"isCompleted": False}}}
    )

    earlier = first["data"]["bulkUpdateTasks"]["tasks"][0]["completedAt"]
    completed = [t["completedAt"] for t in both["data"]["bulkUpdateTasks"]["tasks"]]
    assert completed[0] == earlier
    assert completed[1] > earlier
    assert {t["completedAt"] for t in reopened["data"]["bulkUpdateTasks"]["tasks"]} == {
        None
    }
