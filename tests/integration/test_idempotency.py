from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from domain.models import IdempotencyKey, utcnow
from graph.runtime import Runtime
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import (
    AuthSessionFactory,
    TaskFactory,
    UserFactory,
    project_with_members,
)
from tests.integration.graphql import error_code, gid

CREATE_PROJECT = """
mutation ($name: String!, $key: String) {
  createProject(input: {name: $name, idempotencyKey: $key}) { id name }
}
"""
COUNT = "{ projects { totalCount } tasks { totalCount } }"


async def test_a_retry_with_the_same_key_returns_the_first_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    first = await viewer(CREATE_PROJECT, {"name": "Apollo", "key": "k-1"})
    retry = await viewer(CREATE_PROJECT, {"name": "Apollo", "key": "k-1"})
    counts = await viewer(COUNT)

    assert retry["data"] == first["data"]
    assert counts["data"]["projects"]["totalCount"] == 1


async def test_the_same_key_with_another_input_is_conflict(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))
    await viewer(CREATE_PROJECT, {"name": "Apollo", "key": "k-1"})

    result = await viewer(CREATE_PROJECT, {"name": "Gemini", "key": "k-1"})
    counts = await viewer(COUNT)

    assert error_code(result) == "CONFLICT"
    assert counts["data"]["projects"]["totalCount"] == 1


async def test_keys_belong_to_one_user_and_expire_after_a_day(
    gql: GraphQLClient, token_for: Any, session: Any
) -> None:
    alice, bob = await UserFactory.create_async(), await UserFactory.create_async()
    as_alice = gql.as_user(await token_for(alice))
    as_bob = gql.as_user(await token_for(bob))
    first = await as_alice(CREATE_PROJECT, {"name": "Apollo", "key": "shared"})
    bobs = await as_bob(CREATE_PROJECT, {"name": "Apollo", "key": "shared"})

    await session.commit()  # end the arranging session's read snapshot (SQLite)
    await session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25))
    )
    await session.commit()
    later = await as_alice(CREATE_PROJECT, {"name": "Apollo", "key": "shared"})

    assert bobs["data"]["createProject"]["id"] != first["data"]["createProject"]["id"]
    assert later["data"]["createProject"]["id"] not in {
        first["data"]["createProject"]["id"],
        bobs["data"]["createProject"]["id"],
    }


async def test_a_retried_create_task_creates_one_task(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    viewer = gql.as_user(await token_for(owner))
    document = """mutation ($p: ID!) { createTask(input: {projectId: $p,
      title: "Once", idempotencyKey: "t-1"}) { id title } }"""

    first = await viewer(document, {"p": gid("Project", project.id)})
    retry = await viewer(document, {"p": gid("Project", project.id)})
    counts = await viewer(COUNT)

    assert retry["data"] == first["data"]
    assert counts["data"]["tasks"]["totalCount"] == 1


async def test_a_retried_bulk_update_returns_the_first_result_and_changes_nothing(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    tasks = await TaskFactory.create_batch_async(3, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    document = """mutation ($ids: [ID!]!, $priority: Int!) { bulkUpdateTasks(input: {
      taskIds: $ids, patch: {priority: $priority}, idempotencyKey: "b-1"}) {
      updatedCount tasks { id priority updatedAt } } }"""
    ids = [gid("Task", t.id) for t in tasks]

    first = await viewer(document, {"ids": ids, "priority": 5})
    retry = await viewer(document, {"ids": ids, "priority": 5})
    other = await viewer(document, {"ids": ids, "priority": 1})

    assert retry["data"] == first["data"]
    assert first["data"]["bulkUpdateTasks"]["updatedCount"] == 3
    assert error_code(other) == "CONFLICT"


async def test_a_key_is_kept_for_24_hours_and_forgotten_after(
    gql: GraphQLClient, runtime: Runtime, clock: MovableClock, session: Any
) -> None:
    user = await UserFactory.create_async()
    signed_in = await AuthSessionFactory.create_async(user_id=user.id)

    def viewer() -> GraphQLClient:
        # A fresh access token at each moment: the retries outlive the first one.
        return gql.as_user(runtime.signer.issue(user.id, signed_in.id, clock()))

    variables = {"name": "Apollo", "key": "daily"}
    first = await viewer()(CREATE_PROJECT, variables)
    clock.advance(timedelta(hours=23, minutes=59))
    within = await viewer()(CREATE_PROJECT, variables)
    clock.advance(timedelta(minutes=2))
    after = await viewer()(CREATE_PROJECT, variables)
    counts = await viewer()(COUNT)

    assert within == first
    assert after["data"]["createProject"]["id"] != first["data"]["createProject"]["id"]
    assert counts["data"]["projects"]["totalCount"] == 2
