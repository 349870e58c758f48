from __future__ import annotations

from typing import Any

from domain.models import utcnow
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, error_fields, gid

ADD = """
mutation ($project: ID!, $user: ID!) {
  addProjectMember(input: {projectId: $project, userId: $user}) {
    members { role user { email } }
  }
}
"""
REMOVE = """
mutation ($project: ID!, $user: ID!) {
  removeProjectMember(input: {projectId: $project, userId: $user}) {
    members { role user { email } }
  }
}
"""
PROJECT = "query ($id: ID!) { project(id: $id) { name } }"
TASK_ASSIGNEE = "query ($id: ID!) { task(id: $id) { assignee { email } updatedAt } }"


async def test_adding_a_member_lets_them_see_the_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, newcomer = await UserFactory.create_async(), await UserFactory.create_async()
    project = await project_with_members(owner, name="Apollo")
    as_owner = gql.as_user(await token_for(owner))
    as_newcomer = gql.as_user(await token_for(newcomer))
    ids = {"project": gid("Project", project.id), "user": gid("User", newcomer.id)}

    before = await as_newcomer(PROJECT, {"id": ids["project"]})
    added = await as_owner(ADD, ids)
    again = await as_owner(ADD, ids)
    after = await as_newcomer(PROJECT, {"id": ids["project"]})

    assert error_code(before) == "NOT_FOUND"
    assert added["data"]["addProjectMember"]["members"] == [
        {"role": "OWNER", "user": {"email": owner.email}},
        {"role": "MEMBER", "user": {"email": newcomer.email}},
    ]
    assert again["data"] == added["data"]
    assert after["data"]["project"] == {"name": "Apollo"}


async def test_only_the_owner_or_an_admin_may_change_members(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    outsider = await UserFactory.create_async()
    project = await project_with_members(owner, member)
    as_member = gql.as_user(await token_for(member))
    ids = {"project": gid("Project", project.id), "user": gid("User", outsider.id)}

    result = await as_member(ADD, ids)

    assert error_code(result) == "FORBIDDEN"


async def test_adding_an_unknown_user_is_not_found(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    as_owner = gql.as_user(await token_for(owner))

    result = await as_owner(ADD, {"project": gid("Project", project.id), "user": "999"})

    assert error_code(result) == "NOT_FOUND"


async def test_the_owner_cannot_be_removed(gql: GraphQLClient, token_for: Any) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    as_owner = gql.as_user(await token_for(owner))

    result = await as_owner(
        REMOVE, {"project": gid("Project", project.id), "user": gid("User", owner.id)}
    )

    assert error_code(result) == "BAD_USER_INPUT"
    assert error_fields(result) == {"userId": "the owner cannot be removed"}


async def test_removing_a_member_unassigns_their_open_tasks_in_that_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    project = await project_with_members(owner, member)
    elsewhere = await project_with_members(owner, member)
    open_task = await TaskFactory.create_async(
        project_id=project.id, assignee_id=member.id
    )
    done_task = await TaskFactory.create_async(
        project_id=project.id,
        assignee_id=member.id,
        is_completed=True,
        completed_at=utcnow(),
    )
    other_task = await TaskFactory.create_async(
        project_id=elsewhere.id, assignee_id=member.id
    )
    as_owner = gql.as_user(await token_for(owner))
    as_member = gql.as_user(await token_for(member))

    removed = await as_owner(
        REMOVE, {"project": gid("Project", project.id), "user": gid("User", member.id)}
    )
    tasks = {
        name: (await as_owner(TASK_ASSIGNEE, {"id": gid("Task", t.id)}))["data"]["task"]
        for name, t in (("open", open_task), ("done", done_task), ("other", other_task))
    }
    hidden = await as_member(PROJECT, {"id": gid("Project", project.id)})

    assert removed["data"]["removeProjectMember"]["members"] == [
        {"role": "OWNER", "user": {"email": owner.email}}
    ]
    assert tasks["open"]["assignee"] is None
    assert tasks["open"]["updatedAt"] > open_task.updated_at.isoformat()
    assert tasks["done"]["assignee"] == {"email": member.email}
    assert tasks["other"]["assignee"] == {"email": member.email}
    assert error_code(hidden) == "NOT_FOUND"


async def test_removing_a_non_member_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, stranger = await UserFactory.create_async(), await UserFactory.create_async()
    project = await project_with_members(owner)
    as_owner = gql.as_user(await token_for(owner))

    result = await as_owner(
        REMOVE,
        {"project": gid("Project", project.id), "user": gid("User", stranger.id)},
    )

    assert error_fields(result) == {"userId": "not a member of this project"}
