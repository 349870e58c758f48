from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from domain.models import Role, utcnow
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, error_fields, gid

TASK_FIELDS = """
id title description priority isCompleted completedAt dueDate isOverdue
viewerCanUpdate createdAt updatedAt project { name } assignee { email }
"""
CREATE_TASK = f"""
mutation ($input: CreateTaskInput!) {{ createTask(input: $input) {{ {TASK_FIELDS} }} }}
"""
UPDATE_TASK = f"""
mutation ($id: ID!, $input: UpdateTaskInput!) {{
  updateTask(id: $id, input: $input) {{ {TASK_FIELDS} }}
}}
"""
DELETE_TASK = "mutation ($id: ID!) { deleteTask(id: $id) { deletedId } }"
TASK = f"query ($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
ARCHIVE = """
mutation ($id: ID!, $archived: Boolean!) {
  updateProject(id: $id, input: {isArchived: $archived}) { isArchived }
}
"""


async def test_create_task_in_a_project_returns_the_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, name="Apollo")
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        CREATE_TASK,
        {"input": {"projectId": gid("Project", project.id), "title": " Launch "}},
    )

    task = result["data"]["createTask"]
    assert task["project"] == {"name": "Apollo"}
    assert task["title"] == "Launch"
    assert task["priority"] == 3
    assert (task["isCompleted"], task["completedAt"], task["assignee"]) == (
        False,
        None,
        None,
    )
    assert task["viewerCanUpdate"] is True


async def test_a_member_creates_and_assigns_tasks_to_members_only(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    outsider = await UserFactory.create_async()
    project = await project_with_members(owner, member)
    viewer = gql.as_user(await token_for(member))
    base = {"projectId": gid("Project", project.id), "title": "Assigned"}

    to_owner = await viewer(
        CREATE_TASK, {"input": {**base, "assigneeId": gid("User", owner.id)}}
    )
    to_outsider = await viewer(
        CREATE_TASK, {"input": {**base, "assigneeId": gid("User", outsider.id)}}
    )

    assert to_owner["data"]["createTask"]["assignee"] == {"email": owner.email}
    assert error_code(to_outsider) == "BAD_USER_INPUT"
    assert error_fields(to_outsider) == {
        "assigneeId": "must be the project's owner or a member"
    }


async def test_invalid_task_input_names_every_field(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)

    result = await viewer(
        CREATE_TASK,
        {
            "input": {
                "projectId": project_id,
                "title": "t" * 201,
                "description": "d" * 10_001,
                "priority": 6,
            }
        },
    )
    blank = await viewer(
        CREATE_TASK, {"input": {"projectId": project_id, "title": "", "priority": 0}}
    )
    listed = await viewer("{ tasks { totalCount } }")

    assert error_code(result) == "BAD_USER_INPUT"
    assert error_fields(result) == {
        "title": "must be at most 200 characters",
        "description": "must be at most 10000 characters",
        "priority": "must be between 1 and 5",
    }
    assert error_fields(blank) == {
        "title": "must not be blank",
        "priority": "must be between 1 and 5",
    }
    assert listed["data"]["tasks"]["totalCount"] == 0


async def test_another_users_task_is_not_found_for_reads_and_writes(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    hidden = await project_with_members(other)
    task = await TaskFactory.create_async(project_id=hidden.id, title="Secret")
    viewer = gql.as_user(await token_for(me))
    as_other = gql.as_user(await token_for(other))
    task_id = gid("Task", task.id)

    read = await viewer(TASK, {"id": task_id})
    node = await viewer("query ($id: ID!) { node(id: $id) { id } }", {"id": task_id})
    listed = await viewer("{ tasks { totalCount } }")
    create = await viewer(
        CREATE_TASK, {"input": {"projectId": gid("Project", hidden.id), "title": "x"}}
    )
    update = await viewer(UPDATE_TASK, {"id": task_id, "input": {"title": "Mine"}})
    delete = await viewer(DELETE_TASK, {"id": task_id})
    after = await as_other(TASK, {"id": task_id})

    assert [error_code(r) for r in (read, create, update, delete)] == ["NOT_FOUND"] * 4
    assert node == {"data": {"node": None}}
    assert listed["data"]["tasks"]["totalCount"] == 0
    assert after["data"]["task"]["title"] == "Secret"


async def test_completing_sets_completed_at_and_reopening_clears_it(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    task_id = gid("Task", task.id)

    done = await viewer(UPDATE_TASK, {"id": task_id, "input": {"isCompleted": True}})
    renamed = await viewer(UPDATE_TASK, {"id": task_id, "input": {"title": "Still"}})
    reopened = await viewer(
        UPDATE_TASK, {"id": task_id, "input": {"isCompleted": False}}
    )

    completed_at = done["data"]["updateTask"]["completedAt"]
    assert done["data"]["updateTask"]["isCompleted"] is True
    assert completed_at is not None
    assert renamed["data"]["updateTask"]["completedAt"] == completed_at
    assert reopened["data"]["updateTask"]["completedAt"] is None
    stamps = [r["data"]["updateTask"]["updatedAt"] for r in (done, renamed, reopened)]
    assert task.updated_at.isoformat() < stamps[0] < stamps[1] < stamps[2]


async def test_is_overdue_only_for_an_open_task_past_its_due_date(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
    late = await TaskFactory.create_async(project_id=project.id, due_date=past)
    done_late = await TaskFactory.create_async(
        project_id=project.id, due_date=past, is_completed=True, completed_at=past
    )
    early = await TaskFactory.create_async(project_id=project.id, due_date=future)
    undated = await TaskFactory.create_async(project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    overdue = [
        (await viewer(TASK, {"id": gid("Task", t.id)}))["data"]["task"]["isOverdue"]
        for t in (late, done_late, early, undated)
    ]

    assert overdue == [True, False, False, False]


async def test_update_leaves_omitted_fields_and_clears_explicit_nulls(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    due = utcnow() + timedelta(days=3)
    task = await TaskFactory.create_async(
        project_id=project.id,
        description="Keep me",
        due_date=due,
        assignee_id=owner.id,
        priority=4,
    )
    viewer = gql.as_user(await token_for(owner))
    task_id = gid("Task", task.id)

    kept = await viewer(UPDATE_TASK, {"id": task_id, "input": {"title": "Renamed"}})
    cleared = await viewer(
        UPDATE_TASK,
        {
            "id": task_id,
            "input": {"description": None, "dueDate": None, "assigneeId": None},
        },
    )
    null_priority = await viewer(
        UPDATE_TASK, {"id": task_id, "input": {"priority": None}}
    )

    kept_task, cleared_task = kept["data"]["updateTask"], cleared["data"]["updateTask"]
    assert (kept_task["description"], kept_task["priority"]) == ("Keep me", 4)
    assert kept_task["dueDate"] == due.isoformat()
    assert kept_task["assignee"] == {"email": owner.email}
    assert (cleared_task["description"], cleared_task["dueDate"]) == (None, None)
    assert cleared_task["assignee"] is None
    assert cleared_task["title"] == "Renamed"
    assert error_fields(null_priority) == {"priority": "must be between 1 and 5"}


async def test_an_archived_project_refuses_task_writes_until_unarchived(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id, title="Frozen")
    viewer = gql.as_user(await token_for(owner))
    project_id, task_id = gid("Project", project.id), gid("Task", task.id)
    await viewer(ARCHIVE, {"id": project_id, "archived": True})

    create = await viewer(
        CREATE_TASK, {"input": {"projectId": project_id, "title": "x"}}
    )
    update = await viewer(UPDATE_TASK, {"id": task_id, "input": {"title": "Thawed"}})
    delete = await viewer(DELETE_TASK, {"id": task_id})
    frozen = await viewer(TASK, {"id": task_id})
    count = await viewer("{ tasks { totalCount } }")
    await viewer(ARCHIVE, {"id": project_id, "archived": False})
    thawed = await viewer(UPDATE_TASK, {"id": task_id, "input": {"title": "Thawed"}})

    for refused in (create, update, delete):
        assert error_code(refused) == "CONFLICT"
        assert refused["errors"][0]["message"] == "project is archived"
    assert frozen["data"]["task"]["title"] == "Frozen"
    assert frozen["data"]["task"]["viewerCanUpdate"] is False
    assert count["data"]["tasks"]["totalCount"] == 1
    assert thawed["data"]["updateTask"]["title"] == "Thawed"


async def test_delete_task_removes_it(gql: GraphQLClient, token_for: Any) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    deleted = await viewer(DELETE_TASK, {"id": gid("Task", task.id)})
    again = await viewer(TASK, {"id": gid("Task", task.id)})

    assert deleted["data"]["deleteTask"] == {"deletedId": gid("Task", task.id)}
    assert error_code(again) == "NOT_FOUND"


async def test_fifty_parallel_updates_with_one_expectation_let_exactly_one_win(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    task_id = gid("Task", task.id)
    seen = (await viewer(TASK, {"id": task_id}))["data"]["task"]["updatedAt"]

    results = await asyncio.gather(
        *(
            viewer(
                UPDATE_TASK,
                {
                    "id": task_id,
                    "input": {"title": f"Writer {n}", "expectedUpdatedAt": seen},
                },
            )
            for n in range(50)
        )
    )

    winners = [r for r in results if "errors" not in r]
    assert len(winners) == 1
    assert {error_code(r) for r in results if "errors" in r} == {"CONFLICT"}
    final = (await viewer(TASK, {"id": task_id}))["data"]["task"]["title"]
    assert final == winners[0]["data"]["updateTask"]["title"]


async def test_a_member_updates_and_deletes_tasks_they_did_not_create(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    project = await project_with_members(owner, member)
    tasks = await TaskFactory.create_batch_async(2, project_id=project.id)
    as_member = gql.as_user(await token_for(member))

    updated = await as_member(
        UPDATE_TASK, {"id": gid("Task", tasks[0].id), "input": {"priority": 1}}
    )
    deleted = await as_member(DELETE_TASK, {"id": gid("Task", tasks[1].id)})

    assert updated["data"]["updateTask"]["priority"] == 1
    assert deleted["data"]["deleteTask"] == {"deletedId": gid("Task", tasks[1].id)}


async def test_an_admin_writes_tasks_and_members_in_any_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, newcomer = await UserFactory.create_async(), await UserFactory.create_async()
    admin = await UserFactory.create_async(role=Role.ADMIN)
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id)
    as_admin = gql.as_user(await token_for(admin))
    project_id = gid("Project", project.id)
    member_input = {"projectId": project_id, "userId": gid("User", newcomer.id)}

    created = await as_admin(
        CREATE_TASK, {"input": {"projectId": project_id, "title": "By admin"}}
    )
    updated = await as_admin(
        UPDATE_TASK, {"id": gid("Task", task.id), "input": {"title": "Edited"}}
    )
    added = await as_admin(
        "mutation ($i: ProjectMemberInput!) { addProjectMember(input: $i) { id } }",
        {"i": member_input},
    )
    removed = await as_admin(
        "mutation ($i: ProjectMemberInput!) { removeProjectMember(input: $i) { id } }",
        {"i": member_input},
    )
    deleted = await as_admin(DELETE_TASK, {"id": gid("Task", task.id)})

    assert created["data"]["createTask"]["viewerCanUpdate"] is True
    assert updated["data"]["updateTask"]["title"] == "Edited"
    assert "errors" not in added
    assert "errors" not in removed
    assert "errors" not in deleted
