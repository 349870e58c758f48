"""`subscription { taskEvents(projectId) }` from a real client over a real socket:
what subscribers receive, what they never receive, and who may subscribe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from domain.models import Project, User
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from persistence.events import project_channel
from tests.conftest import GraphQLClient, MovableClock
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import gid
from tests.websocket import bearer, open_socket, receive, subscribe, until

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TASK_EVENTS = """subscription ($p: ID!) { taskEvents(projectId: $p) {
  kind occurredAt actor { name }
  task { id title description isCompleted completedAt project { name } }
} }"""
CREATE = """mutation ($p: ID!, $title: String!, $d: String) {
  createTask(input: {projectId: $p, title: $title, description: $d}) { id } }"""
UPDATE = """mutation ($id: ID!, $input: UpdateTaskInput!) {
  updateTask(id: $id, input: $input) { id } }"""
DELETE = "mutation ($id: ID!) { deleteTask(id: $id) { deletedId } }"
BULK = """mutation ($ids: [ID!]!) {
  bulkUpdateTasks(input: {taskIds: $ids, patch: {priority: 5}}) { updatedCount } }"""
REMOVE = """mutation ($p: ID!, $u: ID!) {
  removeProjectMember(input: {projectId: $p, userId: $u}) { id } }"""


@pytest.fixture
async def owner(session: Any) -> User:
    return await UserFactory.create_async(name="Olga")


@pytest.fixture
async def project(owner: User) -> Project:
    return await project_with_members(owner, name="Board")


async def subscribed(
    url: str, token: str, project_id: int, runtime: Runtime | None = None
) -> ClientConnection:
    """A socket subscribed to the project; with `runtime`, once the subscription
    is live there (a frontend would subscribe, then refetch)."""
    client = await open_socket(url, bearer(token))
    assert await receive(client) == {"type": "connection_ack"}
    await subscribe(client, TASK_EVENTS, {"p": gid("Project", project_id)})
    if runtime is not None:
        channel = project_channel(project_id)
        await until(lambda: runtime.events.has_subscribers(channel))
    return client


async def next_event(client: ClientConnection) -> dict[str, Any]:
    message = await receive(client)
    assert isinstance(message, dict), message
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    event: dict[str, Any] = message["payload"]["data"]["taskEvents"]
    return event


async def test_a_subscriber_receives_each_change_in_order(
    url: str,
    gql: GraphQLClient,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    token = await token_for(owner)
    client = await subscribed(url, token, project.id, runtime)
    viewer = gql.as_user(token)

    created = await viewer(CREATE, {"p": gid("Project", project.id), "title": "A"})
    task_id = created["data"]["createTask"]["id"]
    await viewer(UPDATE, {"id": task_id, "input": {"title": "B"}})
    await viewer(UPDATE, {"id": task_id, "input": {"isCompleted": True}})
    await viewer(DELETE, {"id": task_id})
    events = [await next_event(client) for _ in range(4)]

    assert [(e["kind"], e["task"]["title"]) for e in events] == [
        ("CREATED", "A"),
        ("UPDATED", "B"),
        ("UPDATED", "B"),
        ("DELETED", "B"),
    ]
    assert {e["task"]["id"] for e in events} == {task_id}
    assert {e["actor"]["name"] for e in events} == {"Olga"}
    assert {e["task"]["project"]["name"] for e in events} == {"Board"}
    assert events[2]["task"]["isCompleted"] is True
    assert events[2]["task"]["completedAt"] is not None
    assert events[3]["task"]["isCompleted"] is True


async def test_each_task_of_a_bulk_update_is_one_event(
    url: str,
    gql: GraphQLClient,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    tasks = await TaskFactory.create_batch_async(3, project_id=project.id)
    token = await token_for(owner)
    client = await subscribed(url, token, project.id, runtime)

    await gql.as_user(token)(BULK, {"ids": [gid("Task", t.id) for t in tasks]})
    events = [await next_event(client) for _ in tasks]

    assert [e["kind"] for e in events] == ["UPDATED"] * 3
    assert [e["task"]["id"] for e in events] == [gid("Task", t.id) for t in tasks]


async def test_a_refused_change_sends_nothing(
    url: str,
    gql: GraphQLClient,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    task = await TaskFactory.create_async(project_id=project.id, title="Kept")
    token = await token_for(owner)
    client = await subscribed(url, token, project.id, runtime)
    viewer = gql.as_user(token)

    refused = await viewer(BULK, {"ids": [gid("Task", task.id), gid("Task", 999)]})
    await viewer(CREATE, {"p": gid("Project", project.id), "title": "After"})
    first = await next_event(client)

    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (first["kind"], first["task"]["title"]) == ("CREATED", "After")


async def test_a_project_the_caller_cannot_see_is_not_found(
    url: str, token_for: Any, project: Project
) -> None:
    stranger = await UserFactory.create_async()
    client = await subscribed(url, await token_for(stranger), project.id)

    refused = await receive(client)
    after = await receive(client)

    assert isinstance(refused, dict)
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert refused["payload"]["errors"][0]["message"].endswith("not found")
    assert after == {"id": "1", "type": "complete"}


async def test_a_removed_member_receives_no_further_task(
    url: str, gql: GraphQLClient, token_for: Any, runtime: Runtime, owner: User
) -> None:
    member = await UserFactory.create_async()
    project = await project_with_members(owner, member)
    client = await subscribed(url, await token_for(member), project.id, runtime)
    viewer = gql.as_user(await token_for(owner))

    await viewer(CREATE, {"p": gid("Project", project.id), "title": "Seen"})
    seen = await next_event(client)
    await viewer(REMOVE, {"p": gid("Project", project.id), "u": gid("User", member.id)})
    await viewer(CREATE, {"p": gid("Project", project.id), "title": "Secret"})
    refused = await receive(client)
    after = await receive(client)

    assert seen["task"]["title"] == "Seen"
    assert isinstance(refused, dict)
    assert "Secret" not in str(refused)
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert after == {"id": "1", "type": "complete"}


async def test_a_description_too_long_for_a_notification_still_arrives(
    url: str,
    gql: GraphQLClient,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    token = await token_for(owner)
    client = await subscribed(url, token, project.id, runtime)
    long = "é" * 10_000

    await gql.as_user(token)(
        CREATE, {"p": gid("Project", project.id), "title": "Long", "d": long}
    )
    event = await next_event(client)

    assert event["task"]["description"] == long


async def test_a_change_through_one_worker_reaches_a_subscriber_of_another(
    url: str,
    is_postgres: bool,
    settings: Settings,
    clock: MovableClock,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    if not is_postgres:
        pytest.skip("SQLite serves one process; workers share events on PostgreSQL")
    token = await token_for(owner)
    client = await subscribed(url, token, project.id, runtime)
    other = Runtime.build(settings, clock)
    other_app = create_app(settings, other)

    async with other_app.router.lifespan_context(other_app):
        transport = httpx.ASGITransport(app=other_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w2") as w2:
            elsewhere = GraphQLClient(w2, token)
            await elsewhere(CREATE, {"p": gid("Project", project.id), "title": "Far"})
            event = await next_event(client)

    assert (event["kind"], event["task"]["title"]) == ("CREATED", "Far")


async def test_the_documented_example_receives_a_change(
    url: str,
    gql: GraphQLClient,
    token_for: Any,
    runtime: Runtime,
    owner: User,
    project: Project,
) -> None:
    token = await token_for(owner)
    client = await open_socket(url, bearer(token))
    assert await receive(client) == {"type": "connection_ack"}
    example = (EXAMPLES / "task-events.graphql").read_text()
    await subscribe(client, example, {"projectId": gid("Project", project.id)})
    await until(lambda: runtime.events.has_subscribers(project_channel(project.id)))

    await gql.as_user(token)(CREATE, {"p": gid("Project", project.id), "title": "Hi"})
    message = await receive(client)

    assert isinstance(message, dict)
    event = message["payload"]["data"]["taskEvents"]
    assert (event["kind"], event["task"]["title"]) == ("CREATED", "Hi")
    assert event["actor"] == {"name": "Olga"}
