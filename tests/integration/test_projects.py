from __future__ import annotations

from typing import Any

import pytest

from domain.models import Role
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, error_fields, gid

CREATE_PROJECT = """
mutation ($input: CreateProjectInput!) {
  createProject(input: $input) {
    id name description isArchived viewerCanUpdate
    owner { email }
    members { role user { email } }
  }
}
"""
PROJECTS = """
query ($filter: ProjectFilter) {
  projects(filter: $filter) { totalCount nodes { name isArchived } }
}
"""
PROJECT = "query ($id: ID!) { project(id: $id) { name viewerCanUpdate } }"
UPDATE_PROJECT = """
mutation ($id: ID!, $input: UpdateProjectInput!) {
  updateProject(id: $id, input: $input) { name description isArchived updatedAt }
}
"""
DELETE_PROJECT = "mutation ($id: ID!) { deleteProject(id: $id) { deletedId } }"


async def test_create_project_needs_authentication(gql: GraphQLClient) -> None:
    result = await gql(CREATE_PROJECT, {"input": {"name": "Apollo"}})

    assert result["data"] is None
    assert error_code(result) == "UNAUTHENTICATED"


async def test_create_project_returns_the_owners_email_and_makes_them_owner(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(CREATE_PROJECT, {"input": {"name": "  Apollo  "}})

    project = result["data"]["createProject"]
    assert project["owner"] == {"email": owner.email}
    assert project["name"] == "Apollo"
    assert project["members"] == [{"role": "OWNER", "user": {"email": owner.email}}]
    assert project["viewerCanUpdate"] is True


async def test_owned_by_me_without_archived_lists_exactly_the_callers_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    await project_with_members(me, name="Mine")
    await project_with_members(me, name="Mine, archived", is_archived=True)
    await project_with_members(other, me, name="Theirs, I am a member")
    await project_with_members(other, name="Theirs")
    viewer = gql.as_user(await token_for(me))

    result = await viewer(
        PROJECTS, {"filter": {"ownedByMe": True, "includeArchived": False}}
    )

    assert result["data"]["projects"] == {
        "totalCount": 1,
        "nodes": [{"name": "Mine", "isArchived": False}],
    }


async def test_projects_lists_memberships_and_search_ignores_case(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    await project_with_members(me, name="Apollo")
    await project_with_members(other, me, name="Gemini")
    await project_with_members(other, name="Mercury")
    viewer = gql.as_user(await token_for(me))

    everything = await viewer(PROJECTS)
    searched = await viewer(PROJECTS, {"filter": {"search": "GEM"}})

    assert [p["name"] for p in everything["data"]["projects"]["nodes"]] == [
        "Apollo",
        "Gemini",
    ]
    assert [p["name"] for p in searched["data"]["projects"]["nodes"]] == ["Gemini"]


async def test_another_users_project_is_not_found_and_never_listed(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    hidden = await project_with_members(other, name="Hidden")
    viewer = gql.as_user(await token_for(me))
    hidden_id = gid("Project", hidden.id)

    by_id = await viewer(PROJECT, {"id": hidden_id})
    node = await viewer("query ($id: ID!) { node(id: $id) { id } }", {"id": hidden_id})
    listed = await viewer(PROJECTS, {"filter": {"includeArchived": True}})
    on_user = await viewer(
        "query ($id: ID!) { user(id: $id) { projects { totalCount nodes { name } } } }",
        {"id": gid("User", other.id)},
    )

    assert error_code(by_id) == "NOT_FOUND"
    assert by_id["errors"][0]["message"] == f"Project {hidden_id} not found"
    assert node == {"data": {"node": None}}
    assert listed["data"]["projects"] == {"totalCount": 0, "nodes": []}
    assert on_user["data"]["user"]["projects"] == {"totalCount": 0, "nodes": []}


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (UPDATE_PROJECT, {"input": {"name": "Mine now"}}),
        (DELETE_PROJECT, {}),
        (
            "mutation ($id: ID!, $user: ID!) { addProjectMember("
            "input: {projectId: $id, userId: $user}) { id } }",
            {"user": "self"},
        ),
        (
            "mutation ($id: ID!, $user: ID!) { removeProjectMember("
            "input: {projectId: $id, userId: $user}) { id } }",
            {"user": "owner"},
        ),
    ],
)
async def test_another_users_project_is_not_found_for_writes(
    gql: GraphQLClient, token_for: Any, document: str, variables: dict[str, Any]
) -> None:
    me, other = await UserFactory.create_async(), await UserFactory.create_async()
    hidden = await project_with_members(other, name="Hidden")
    viewer = gql.as_user(await token_for(me))
    as_owner = gql.as_user(await token_for(other))
    users = {"self": gid("User", me.id), "owner": gid("User", other.id)}
    if "user" in variables:
        variables = {"user": users[variables["user"]]}

    result = await viewer(document, {"id": gid("Project", hidden.id), **variables})
    owner_view = await as_owner(PROJECT, {"id": gid("Project", hidden.id)})

    assert error_code(result) == "NOT_FOUND"
    assert owner_view["data"]["project"]["name"] == "Hidden"


async def test_a_member_sees_the_project_but_may_not_update_it(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner, member = await UserFactory.create_async(), await UserFactory.create_async()
    project = await project_with_members(owner, member, name="Shared")
    viewer = gql.as_user(await token_for(member))
    project_id = gid("Project", project.id)

    seen = await viewer(PROJECT, {"id": project_id})
    update = await viewer(UPDATE_PROJECT, {"id": project_id, "input": {"name": "X"}})
    delete = await viewer(DELETE_PROJECT, {"id": project_id})

    assert seen["data"]["project"] == {"name": "Shared", "viewerCanUpdate": False}
    assert error_code(update) == "FORBIDDEN"
    assert error_code(delete) == "FORBIDDEN"


async def test_an_admin_sees_lists_and_updates_any_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    admin = await UserFactory.create_async(role=Role.ADMIN)
    project = await project_with_members(owner, name="Private")
    viewer = gql.as_user(await token_for(admin))

    listed = await viewer(PROJECTS)
    updated = await viewer(
        UPDATE_PROJECT,
        {"id": gid("Project", project.id), "input": {"description": "seen by admin"}},
    )

    assert listed["data"]["projects"]["nodes"] == [
        {"name": "Private", "isArchived": False}
    ]
    assert updated["data"]["updateProject"]["description"] == "seen by admin"


async def test_update_leaves_omitted_fields_and_clears_explicit_nulls(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, name="Keep", description="Old")
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)

    renamed = await viewer(UPDATE_PROJECT, {"id": project_id, "input": {"name": "New"}})
    cleared = await viewer(
        UPDATE_PROJECT, {"id": project_id, "input": {"description": None}}
    )

    assert renamed["data"]["updateProject"]["description"] == "Old"
    assert cleared["data"]["updateProject"]["name"] == "New"
    assert cleared["data"]["updateProject"]["description"] is None
    assert (
        cleared["data"]["updateProject"]["updatedAt"]
        > renamed["data"]["updateProject"]["updatedAt"]
    )


async def test_invalid_project_input_names_every_field(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = gql.as_user(await token_for(await UserFactory.create_async()))

    blank = await viewer(CREATE_PROJECT, {"input": {"name": "   "}})
    too_long = await viewer(
        CREATE_PROJECT, {"input": {"name": "n" * 201, "description": "d" * 10_001}}
    )
    at_limits = await viewer(
        CREATE_PROJECT, {"input": {"name": "n" * 200, "description": "d" * 10_000}}
    )

    assert error_code(blank) == "BAD_USER_INPUT"
    assert error_fields(blank) == {"name": "must not be blank"}
    assert error_fields(too_long) == {
        "name": "must be at most 200 characters",
        "description": "must be at most 10000 characters",
    }
    assert "errors" not in at_limits


async def test_expected_updated_at_refuses_a_stale_update_and_changes_nothing(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, name="Original")
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)
    read = await viewer(
        "query ($id: ID!) { project(id: $id) { updatedAt } }", {"id": project_id}
    )
    seen_at = read["data"]["project"]["updatedAt"]

    first = await viewer(
        UPDATE_PROJECT,
        {"id": project_id, "input": {"name": "First", "expectedUpdatedAt": seen_at}},
    )
    second = await viewer(
        UPDATE_PROJECT,
        {"id": project_id, "input": {"name": "Second", "expectedUpdatedAt": seen_at}},
    )
    after = await viewer(PROJECT, {"id": project_id})

    assert first["data"]["updateProject"]["name"] == "First"
    assert error_code(second) == "CONFLICT"
    assert after["data"]["project"]["name"] == "First"


async def test_deleting_a_project_deletes_its_tasks(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(project_id=project.id)
    viewer = gql.as_user(await token_for(owner))

    deleted = await viewer(DELETE_PROJECT, {"id": gid("Project", project.id)})
    task_after = await viewer(
        "query ($id: ID!) { task(id: $id) { id } }", {"id": gid("Task", task.id)}
    )
    tasks_after = await viewer("{ tasks { totalCount } }")

    assert deleted["data"]["deleteProject"] == {"deletedId": gid("Project", project.id)}
    assert error_code(task_after) == "NOT_FOUND"
    assert tasks_after["data"]["tasks"]["totalCount"] == 0


async def test_an_archived_project_refuses_edits_until_unarchived(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner, name="Old")
    viewer = gql.as_user(await token_for(owner))
    project_id = gid("Project", project.id)

    archived = await viewer(
        UPDATE_PROJECT, {"id": project_id, "input": {"isArchived": True}}
    )
    renamed = await viewer(UPDATE_PROJECT, {"id": project_id, "input": {"name": "X"}})
    restored = await viewer(
        UPDATE_PROJECT,
        {"id": project_id, "input": {"isArchived": False, "name": "Revived"}},
    )

    assert archived["data"]["updateProject"]["isArchived"] is True
    assert error_code(renamed) == "CONFLICT"
    assert renamed["errors"][0]["message"] == "project is archived"
    assert restored["data"]["updateProject"] == {
        **restored["data"]["updateProject"],
        "name": "Revived",
        "isArchived": False,
    }
