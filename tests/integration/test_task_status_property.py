"""Property: whatever their completion and due dates, the status filter partitions
a project's tasks into PENDING, COMPLETED and OVERDUE, each task in exactly one,
and in the one its own isCompleted and isOverdue fields describe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.models import utcnow
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import gid

STATUSES = ("PENDING", "COMPLETED", "OVERDUE")
BY_STATUS = """
query ($p: ID!, $s: TaskStatus!) {
  tasks(first: 100, filter: {projectId: $p, status: $s}) {
    nodes { id isCompleted isOverdue }
  }
}
"""
# Minutes from now, never 0: a task due this very minute would change status
# between being written and being read.
DUE = st.none() | st.integers(-100_000, 100_000).filter(bool)


def expected_status(node: dict[str, Any]) -> str:
    if node["isCompleted"]:
        return "COMPLETED"
    return "OVERDUE" if node["isOverdue"] else "PENDING"


@settings(
    max_examples=15,
    deadline=None,
    # Each example makes its own project: the database is shared on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tasks=st.lists(st.tuples(st.booleans(), DUE), min_size=1, max_size=8))
async def test_every_task_has_exactly_one_status(
    gql: GraphQLClient, token_for: Any, tasks: list[tuple[bool, int | None]]
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    now = utcnow()
    created = [
        await TaskFactory.create_async(
            project_id=project.id,
            is_completed=completed,
            completed_at=now if completed else None,
            due_date=None if due is None else now + timedelta(minutes=due),
        )
        for completed, due in tasks
    ]
    viewer = gql.as_user(await token_for(owner))

    found: dict[str, list[str]] = {}
    for status in STATUSES:
        result = await viewer(BY_STATUS, {"p": gid("Project", project.id), "s": status})
        for node in result["data"]["tasks"]["nodes"]:
            assert expected_status(node) == status
            found.setdefault(node["id"], []).append(status)

    assert sorted(found) == sorted(gid("Task", t.id) for t in created)
    assert all(len(statuses) == 1 for statuses in found.values())
    for (completed, due), task in zip(tasks, created, strict=True):
        overdue = not completed and due is not None and due < 0
        want = "COMPLETED" if completed else "OVERDUE" if overdue else "PENDING"
        assert found[gid("Task", task.id)] == [want]
