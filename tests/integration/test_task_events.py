"""Task changes publish events, and only after their transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.access import Actor
from domain.errors import Conflict
from domain.models import utcnow
from domain.task_events import TaskEventRecord
from domain.tasks import NewTask, create_task
from graph.runtime import Runtime
from persistence.uow import SqlUnitOfWork
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import gid


@dataclass
class RecordingPublisher:
    """A stand-in for the subscriptions' transport, the outside world here."""

    events: list[TaskEventRecord] = field(default_factory=list)

    async def publish(self, event: TaskEventRecord) -> None:
        self.events.append(event)


@pytest.fixture
def published(runtime: Runtime) -> list[TaskEventRecord]:
    publisher = RecordingPublisher()
    runtime.task_events = publisher
    return publisher.events


async def test_each_task_change_publishes_its_event_with_the_tasks_state(
    gql: GraphQLClient, token_for: Any, published: list[TaskEventRecord]
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    others = await TaskFactory.create_batch_async(2, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    created = await viewer(
        """mutation ($p: ID!) { createTask(input: {projectId: $p, title: "New"}) {
        id } }""",
        {"p": gid("Project", project.id)},
    )
    task_id = created["data"]["createTask"]["id"]
    await viewer(
        'mutation ($id: ID!) { updateTask(id: $id, input: {title: "Renamed"}) { id } }',
        {"id": task_id},
    )
    await viewer(
        """mutation ($ids: [ID!]!) { bulkUpdateTasks(input: {taskIds: $ids,
        patch: {priority: 1}}) { updatedCount } }""",
        {"ids": [gid("Task", t.id) for t in others]},
    )
    await viewer(
        "mutation ($id: ID!) { deleteTask(id: $id) { deletedId } }", {"id": task_id}
    )

    assert [(e.kind, e.snapshot["title"]) for e in published] == [
        ("CREATED", "New"),
        ("UPDATED", "Renamed"),
        ("UPDATED", others[0].title),
        ("UPDATED", others[1].title),
        ("DELETED", "Renamed"),
    ]
    assert {e.project_id for e in published} == {project.id}
    assert {e.actor_id for e in published} == {owner.id}
    assert published[-1].task_id == published[0].task_id


async def test_a_refused_mutation_publishes_nothing(
    gql: GraphQLClient, token_for: Any, published: list[TaskEventRecord]
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, is_archived=True)
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        """mutation ($p: ID!) { createTask(input: {projectId: $p, title: "x"}) {
        id } }""",
        {"p": gid("Project", project.id)},
    )

    assert result["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert published == []


async def test_a_rolled_back_change_releases_no_event(
    runtime: Runtime, session: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    publisher = RecordingPublisher()
    uow = SqlUnitOfWork(runtime.session_factory, writes=True, task_events=publisher)
    actor = Actor(owner.id, owner.role)

    async def failing_mutation() -> None:
        async with uow.savepoint():
            await create_task(
                NewTask(project.id, "Doomed"), uow=uow, actor=actor, clock=utcnow
            )
            raise Conflict("a later step of the same mutation failed")

    with pytest.raises(Conflict):
        await failing_mutation()
    async with uow.savepoint():
        await create_task(
            NewTask(project.id, "Kept"), uow=uow, actor=actor, clock=utcnow
        )
    before_commit = list(publisher.events)
    await uow.commit()
    await uow.close()

    assert before_commit == []
    assert [e.snapshot["title"] for e in publisher.events] == ["Kept"]
