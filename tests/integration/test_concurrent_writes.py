"""Concurrent writers: optimistic concurrency picks one winner, set-based bulk
updates lose nothing, and SQLite writers queue instead of failing "database is
locked". On SQLite the `settings` fixture gives every test its own database file."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, gid

PROJECT = "query ($id: ID!) { project(id: $id) { name updatedAt } }"
UPDATE_PROJECT = """
mutation ($id: ID!, $input: UpdateProjectInput!) {
  updateProject(id: $id, input: $input) { name }
}
"""
BULK = """
mutation ($ids: [ID!]!, $patch: TaskPatch!) {
  bulkUpdateTasks(input: {taskIds: $ids, patch: $patch}) { updatedCount }
}
"""
STATE = "{ tasks(first: 100) { totalCount nodes { priority isCompleted } } }"
CREATE_TASK = """
mutation ($p: ID!, $t: String!) { createTask(input: {projectId: $p, title: $t}) {
  id } }
"""
UPDATE_TASK = """
mutation ($id: ID!, $t: String!) { updateTask(id: $id, input: {title: $t}) { id } }
"""
CREATE_PROJECT = "mutation ($n: String!) { createProject(input: {name: $n}) { id } }"
COUNTS = "{ projects { totalCount } tasks { totalCount } }"


async def test_fifty_parallel_project_updates_with_one_expectation_let_one_win(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)
    seen = (await viewer(PROJECT, {"id": project_id}))["data"]["project"]["updatedAt"]

    results = await asyncio.gather(
        *(
            viewer(
                UPDATE_PROJECT,
                {
                    "id": project_id,
                    "input": {"name": f"Writer {n}", "expectedUpdatedAt": seen},
                },
            )
            for n in range(50)
        )
    )

    winners = [r["data"]["updateProject"]["name"] for r in results if "errors" not in r]
    assert len(winners) == 1
    assert [error_code(r) for r in results if "errors" in r] == ["CONFLICT"] * 49
    final = await viewer(PROJECT, {"id": project_id})
    assert final["data"]["project"]["name"] == winners[0]


async def test_two_concurrent_bulk_updates_of_different_fields_both_persist(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    tasks = await TaskFactory.create_batch_async(
        100, project_id=project.id, priority=1, is_completed=False, completed_at=None
    )
    viewer = gql.as_user(await token_for(owner))
    ids = [gid("Task", t.id) for t in tasks]

    prioritised, completed = await asyncio.gather(
        viewer(BULK, {"ids": ids, "patch": {"priority": 5}}),
        viewer(BULK, {"ids": ids, "patch": {"isCompleted": True}}),
    )
    state = await viewer(STATE)

    assert prioritised["data"]["bulkUpdateTasks"]["updatedCount"] == 100
    assert completed["data"]["bulkUpdateTasks"]["updatedCount"] == 100
    nodes = state["data"]["tasks"]["nodes"]
    assert len(nodes) == 100
    assert all(n == {"priority": 5, "isCompleted": True} for n in nodes)


async def test_twenty_concurrent_mutations_all_succeed_without_database_locked(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    existing = await TaskFactory.create_batch_async(5, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)
    writes = [
        *(viewer(CREATE_TASK, {"p": project_id, "t": f"New {n}"}) for n in range(10)),
        *(
            viewer(UPDATE_TASK, {"id": gid("Task", t.id), "t": f"Renamed {t.id}"})
            for t in existing
        ),
        *(viewer(CREATE_PROJECT, {"n": f"Project {n}"}) for n in range(5)),
    ]

    results = await asyncio.gather(*writes)
    counts = await viewer(COUNTS)

    assert [r.get("errors") for r in results] == [None] * 20
    assert counts["data"] == {
        "projects": {"totalCount": 6},
        "tasks": {"totalCount": 15},
    }
