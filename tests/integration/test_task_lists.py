from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.models import Task, utcnow
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members
from tests.integration.graphql import error_code, error_fields, gid

TASKS = """
query ($first: Int, $after: String, $last: Int, $before: String,
       $filter: TaskFilter, $orderBy: TaskOrder) {
  tasks(first: $first, after: $after, last: $last, before: $before,
        filter: $filter, orderBy: $orderBy) {
    totalCount
    nodes { id title }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def titles(result: dict[str, Any]) -> list[str]:
    return [n["title"] for n in result["data"]["tasks"]["nodes"]]


async def test_filter_by_project_and_pending_returns_only_the_pending_task(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    elsewhere = await project_with_members(owner)
    now = utcnow()
    await TaskFactory.create_async(project_id=project.id, title="pending")
    await TaskFactory.create_async(
        project_id=project.id, title="completed", is_completed=True, completed_at=now
    )
    await TaskFactory.create_async(
        project_id=project.id, title="overdue", due_date=now - timedelta(hours=1)
    )
    await TaskFactory.create_async(project_id=elsewhere.id, title="other project")
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        TASKS,
        {"filter": {"projectId": gid("Project", project.id), "status": "PENDING"}},
    )

    assert titles(result) == ["pending"]
    assert result["data"]["tasks"]["totalCount"] == 1


@pytest.mark.parametrize(
    ("task_filter", "expected"),
    [
        ({"status": "COMPLETED"}, ["done"]),
        ({"status": "OVERDUE"}, ["late"]),
        ({"status": "PENDING"}, ["soon", "mine", "nodate"]),
        ({"assigneeId": "me"}, ["mine"]),
        ({"priorityAtLeast": 4}, ["late", "soon"]),
        ({"dueBefore": "now"}, ["late", "done"]),
        ({"dueAfter": "now"}, ["soon"]),
        ({"search": "NEEDLE"}, ["mine", "nodate"]),
    ],
)
async def test_each_task_filter_selects_its_tasks(
    gql: GraphQLClient,
    token_for: Any,
    task_filter: dict[str, Any],
    expected: list[str],
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    now = utcnow()
    for title, fields in (
        ("late", {"due_date": now - timedelta(days=1), "priority": 5}),
        ("done", {"due_date": now - timedelta(days=2), "is_completed": True}),
        ("soon", {"due_date": now + timedelta(days=1), "priority": 4}),
        ("mine", {"assignee_id": owner.id, "description": "has a needle"}),
        ("nodate", {"priority": 1}),
    ):
        title_fields = {"title": title if title != "nodate" else "nodate needle"}
        await TaskFactory.create_async(project_id=project.id, **title_fields, **fields)
    viewer = gql.as_user(await token_for(owner))
    values = {"me": gid("User", owner.id), "now": now.isoformat()}
    task_filter = {k: values.get(v, v) for k, v in task_filter.items()}

    result = await viewer(TASKS, {"filter": task_filter})

    found = [t.replace("nodate needle", "nodate") for t in titles(result)]
    assert found == expected


ORDER_FIELDS = {
    "CREATED_AT": "created_at",
    "DUE_DATE": "due_date",
    "PRIORITY": "priority",
    "TITLE": "title",
}


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", sorted(ORDER_FIELDS))
async def test_orders_by_each_field_both_ways_with_ties_broken_by_id(
    gql: GraphQLClient, token_for: Any, field: str, direction: str
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    base = utcnow()
    tasks: list[Task] = []
    for n in range(12):
        # Every key repeats (ties), and a third of the tasks have no due date.
        tasks.append(
            await TaskFactory.create_async(
                project_id=project.id,
                title=f"task {'abc'[n % 3]}",
                priority=1 + n % 4,
                created_at=base - timedelta(minutes=n % 5),
                due_date=None if n % 3 == 0 else base + timedelta(days=n % 2),
            )
        )
    viewer = gql.as_user(await token_for(owner))
    attribute = ORDER_FIELDS[field]

    def key(task: Task) -> tuple[Any, int]:
        value = getattr(task, attribute)
        return (FAR_FUTURE if value is None else value, task.id)

    expected = sorted(tasks, key=key, reverse=direction == "DESC")
    pages: list[str] = []
    after = None
    for _ in range(3):
        result = await viewer(
            TASKS,
            {
                "first": 5,
                "after": after,
                "orderBy": {"field": field, "direction": direction},
            },
        )
        pages += [n["id"] for n in result["data"]["tasks"]["nodes"]]
        after = result["data"]["tasks"]["pageInfo"]["endCursor"]

    assert pages == [gid("Task", t.id) for t in expected]


async def test_pages_forwards_and_backwards_over_250_tasks_visit_each_once(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    created = await TaskFactory.create_batch_async(250, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    order = {"field": "PRIORITY", "direction": "DESC"}

    forwards: list[str] = []
    cursor, more = None, True
    while more:
        page = await viewer(TASKS, {"first": 100, "after": cursor, "orderBy": order})
        forwards += [n["id"] for n in page["data"]["tasks"]["nodes"]]
        cursor = page["data"]["tasks"]["pageInfo"]["endCursor"]
        more = page["data"]["tasks"]["pageInfo"]["hasNextPage"]
    backwards: list[str] = []
    cursor, more = None, True
    while more:
        page = await viewer(TASKS, {"last": 100, "before": cursor, "orderBy": order})
        backwards = [n["id"] for n in page["data"]["tasks"]["nodes"]] + backwards
        cursor = page["data"]["tasks"]["pageInfo"]["startCursor"]
        more = page["data"]["tasks"]["pageInfo"]["hasPreviousPage"]

    everyone = sorted(gid("Task", t.id) for t in created)
    assert sorted(forwards) == everyone
    assert len(forwards) == 250
    assert backwards == forwards


async def test_pagination_is_stable_when_tasks_are_inserted_between_pages(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    original = await TaskFactory.create_batch_async(
        30, project_id=project.id, priority=3
    )
    viewer = gql.as_user(await token_for(owner))
    order = {"field": "PRIORITY", "direction": "ASC"}
    first = await viewer(TASKS, {"first": 10, "orderBy": order})

    await TaskFactory.create_batch_async(10, project_id=project.id, priority=1)
    await TaskFactory.create_batch_async(10, project_id=project.id, priority=5)
    seen = [n["id"] for n in first["data"]["tasks"]["nodes"]]
    cursor = first["data"]["tasks"]["pageInfo"]["endCursor"]
    while cursor is not None:
        page = await viewer(TASKS, {"first": 10, "after": cursor, "orderBy": order})
        seen += [n["id"] for n in page["data"]["tasks"]["nodes"]]
        more = page["data"]["tasks"]["pageInfo"]["hasNextPage"]
        cursor = page["data"]["tasks"]["pageInfo"]["endCursor"] if more else None

    originals = [gid("Task", t.id) for t in original]
    assert [i for i in seen if i in originals] == originals
    assert len(seen) == len(set(seen)) == 40


async def test_a_cursor_from_another_ordering_or_filter_is_bad_user_input(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    await TaskFactory.create_batch_async(3, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    page = await viewer(TASKS, {"first": 1})
    cursor = page["data"]["tasks"]["pageInfo"]["endCursor"]

    other_order = await viewer(
        TASKS, {"first": 1, "after": cursor, "orderBy": {"field": "TITLE"}}
    )
    other_filter = await viewer(
        TASKS, {"first": 1, "after": cursor, "filter": {"status": "PENDING"}}
    )

    for result in (other_order, other_filter):
        assert error_code(result) == "BAD_USER_INPUT"
        assert "after" in error_fields(result)


async def test_user_edges_show_only_what_the_caller_may_see(
    gql: GraphQLClient, token_for: Any
) -> None:
    me, colleague = await UserFactory.create_async(), await UserFactory.create_async()
    shared = await project_with_members(me, colleague, name="Shared")
    private = await project_with_members(colleague, name="Private")
    await TaskFactory.create_async(
        project_id=shared.id, assignee_id=colleague.id, title="visible"
    )
    await TaskFactory.create_async(
        project_id=private.id, assignee_id=colleague.id, title="hidden"
    )
    viewer = gql.as_user(await token_for(me))
    as_colleague = gql.as_user(await token_for(colleague))
    document = """
    query ($id: ID!) { user(id: $id) {
      projects { totalCount nodes { name } }
      assignedTasks { totalCount nodes { title } }
    } }
    """

    mine = await viewer(document, {"id": gid("User", colleague.id)})
    theirs = await as_colleague(document, {"id": gid("User", colleague.id)})

    assert mine["data"]["user"] == {
        "projects": {"totalCount": 1, "nodes": [{"name": "Shared"}]},
        "assignedTasks": {"totalCount": 1, "nodes": [{"title": "visible"}]},
    }
    assert theirs["data"]["user"]["projects"]["totalCount"] == 2
    assert theirs["data"]["user"]["assignedTasks"]["totalCount"] == 2


async def test_project_tasks_pages_within_each_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    projects = [await project_with_members(owner) for _ in range(3)]
    for index, project in enumerate(projects):
        await TaskFactory.create_batch_async(index + 2, project_id=project.id)
    viewer = gql.as_user(await token_for(owner))
    document = """
    query ($after: String) { projects { nodes {
      tasks(first: 2, after: $after) {
        totalCount nodes { title } pageInfo { hasNextPage endCursor }
      }
    } } }
    """

    first = await viewer(document)

    connections = [p["tasks"] for p in first["data"]["projects"]["nodes"]]
    assert [c["totalCount"] for c in connections] == [2, 3, 4]
    assert [len(c["nodes"]) for c in connections] == [2, 2, 2]
    assert [c["pageInfo"]["hasNextPage"] for c in connections] == [False, True, True]
    single = await viewer(
        """query ($id: ID!, $after: String) { project(id: $id) {
          tasks(first: 2, after: $after) { nodes { title } } } }""",
        {
            "id": gid("Project", projects[2].id),
            "after": connections[2]["pageInfo"]["endCursor"],
        },
    )
    assert len(single["data"]["project"]["tasks"]["nodes"]) == 2


@pytest.mark.parametrize(
    ("order", "window"),
    [
        ({"field": "PRIORITY", "direction": "DESC"}, "first: 3"),
        ({"field": "DUE_DATE", "direction": "ASC"}, "last: 3"),
        ({"field": "TITLE", "direction": "DESC"}, "last: 2"),
        # Statements are reused across requests with `now` bound at execution.
        (
            {"field": "DUE_DATE", "direction": "ASC"},
            "first: 1, filter: {status: OVERDUE}",
        ),
        (
            {"field": "DUE_DATE", "direction": "ASC"},
            "first: 1, filter: {status: PENDING}",
        ),
    ],
)
async def test_nested_pages_match_each_projects_own_page(
    gql: GraphQLClient, token_for: Any, order: dict[str, str], window: str
) -> None:
    """Pages for many projects come from one statement; each must be the page that
    project alone would give, in the same order, both ways, ties included."""
    owner = await UserFactory.create_async()
    projects = [await project_with_members(owner) for _ in range(3)]
    base = utcnow()
    for index, project in enumerate(projects):
        for n in range(4 + index):
            await TaskFactory.create_async(
                project_id=project.id,
                title=f"task {'ab'[n % 2]}",
                priority=1 + n % 3,
                due_date=None if n % 3 == 0 else base + timedelta(days=n % 2 - 0.5),
            )
    viewer = gql.as_user(await token_for(owner))
    selection = f"""tasks({window}, orderBy: $order) {{
      nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }}"""

    nested = await viewer(
        f"query ($order: TaskOrder) {{ projects {{ nodes {{ {selection} }} }} }}",
        {"order": order},
    )

    alone = [
        (
            await viewer(
                f"""query ($id: ID!, $order: TaskOrder) {{
                  project(id: $id) {{ {selection} }} }}""",
                {"id": gid("Project", project.id), "order": order},
            )
        )["data"]["project"]["tasks"]
        for project in projects
    ]
    assert [p["tasks"] for p in nested["data"]["projects"]["nodes"]] == alone
    size = int(window.split(",")[0][-1])
    assert [len(page["nodes"]) for page in alone] == [size] * 3


async def test_a_bad_nested_page_size_is_refused_at_each_project(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    for _ in range(2):
        await TaskFactory.create_async(
            project_id=(await project_with_members(owner)).id
        )
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        "{ projects { nodes { name tasks(first: 101) { nodes { title } } } } }"
    )

    # Connections are non-null: the first refusal nulls the page of projects.
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == {"first": "must be between 0 and 100"}
    assert error["path"][:2] == ["projects", "nodes"]
    assert error["path"][-1] == "tasks"
    assert result["data"] is None


async def test_aliased_nested_pages_are_each_their_own_page(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    await TaskFactory.create_batch_async(3, project_id=project.id, assignee_id=owner.id)
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        """{ projects { nodes {
          one: tasks(first: 1) { nodes { title } }
          two: tasks(first: 2) { nodes { title assignee { email } } } } } }"""
    )

    [node] = result["data"]["projects"]["nodes"]
    assert len(node["one"]["nodes"]) == 1
    assert [t["assignee"] for t in node["two"]["nodes"]] == [{"email": owner.email}] * 2


SHOWN = "description completedAt dueDate isOverdue createdAt updatedAt"


@pytest.mark.parametrize(
    "document",
    [
        # The page with its count in one statement, the page alone, one project's
        # page, a page of projects' pages, and a user's assigned tasks; SHOWN is
        # the fields, F a fragment of them.
        "{ tasks(first: 5) { totalCount nodes { id SHOWN } } }",
        "{ tasks(first: 5) { edges { node { id ...F } } } } F",
        "query($p: ID!) { project(id: $p) { tasks { nodes { id ...F } } } } F",
        "{ projects { nodes { tasks { nodes { ... on Task { id SHOWN } } } } } }",
        "{ me { assignedTasks { nodes { id ...F } } } } F",
    ],
)
async def test_a_list_shows_each_field_of_its_tasks_however_they_are_selected(
    gql: GraphQLClient, token_for: Any, document: str
) -> None:
    """A list reads the description and timestamps only for a response that
    shows them: through fragments, edges and every kind of list, they are the
    task's own."""
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    now = utcnow()
    for fields in (
        {"description": "long", "due_date": now - timedelta(days=1)},
        {"is_completed": True, "completed_at": now, "due_date": now},
        {"due_date": now + timedelta(days=3)},
    ):
        await TaskFactory.create_async(
            project_id=project.id, assignee_id=owner.id, **fields
        )
    viewer = gql.as_user(await token_for(owner))
    document = document.replace(" F", " fragment F on Task { SHOWN }")

    result = await viewer(
        document.replace("SHOWN", SHOWN), {"p": gid("Project", project.id)}
    )

    listed = _tasks_in(result["data"])
    assert len(listed) == 3
    for task in listed:
        alone = await viewer(
            f"query($id: ID!) {{ task(id: $id) {{ id {SHOWN} }} }}", {"id": task["id"]}
        )
        assert task == alone["data"]["task"]
    assert {t["description"] for t in listed} == {"long", None}
    assert sum(t["isOverdue"] for t in listed) == 1


def _tasks_in(data: Any) -> list[dict[str, Any]]:
    """Every object with a createdAt in a response, depth first."""
    if isinstance(data, list):
        return [task for item in data for task in _tasks_in(item)]
    if not isinstance(data, dict):
        return []
    if "createdAt" in data:
        return [data]
    return [task for value in data.values() for task in _tasks_in(value)]


async def test_sibling_lists_that_show_different_fields_each_show_their_own(
    gql: GraphQLClient, token_for: Any
) -> None:
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    task = await TaskFactory.create_async(
        project_id=project.id, description="seen", due_date=utcnow() - timedelta(1)
    )
    viewer = gql.as_user(await token_for(owner))

    result = await viewer(
        """{ projects { nodes {
          bare: tasks { nodes { title } }
          late: tasks { nodes { isOverdue } }
          full: tasks { nodes { description createdAt } }
          cursors: tasks(orderBy: {field: DUE_DATE}) { edges { cursor } }
        } } }"""
    )

    [node] = result["data"]["projects"]["nodes"]
    assert node["bare"]["nodes"] == [{"title": task.title}]
    assert node["late"]["nodes"] == [{"isOverdue": True}]
    assert node["full"]["nodes"][0]["description"] == "seen"
    assert node["full"]["nodes"][0]["createdAt"] is not None
    cursor = node["cursors"]["edges"][0]["cursor"]
    after = await viewer(
        """query($p: ID!, $after: String) { project(id: $p) {
        tasks(after: $after, orderBy: {field: DUE_DATE}) { nodes { title } } } }""",
        {"p": gid("Project", project.id), "after": cursor},
    )
    assert after["data"]["project"]["tasks"]["nodes"] == []  # the task's own cursor


async def test_owners_and_assignees_of_a_page_show_their_timestamps_when_asked(
    gql: GraphQLClient, token_for: Any
) -> None:
    """A page reads its users without timestamps unless its response shows one:
    a list that does, beside one that does not, gets the users' own."""
    owner = await UserFactory.create_async()
    project = await project_with_members(owner)
    await TaskFactory.create_async(project_id=project.id, assignee_id=owner.id)
    viewer = gql.as_user(await token_for(owner))
    me = (await viewer("{ me { name createdAt updatedAt } }"))["data"]["me"]

    result = await viewer(
        """fragment Dates on User { createdAt updatedAt }
        { projects { nodes {
          bare: tasks { nodes { assignee { name } } }
          dated: tasks { nodes { assignee { name ...Dates } } }
          owner { ... on User { name createdAt updatedAt } }
        } }
        tasks { edges { node { assignee { updatedAt name createdAt } } } } }"""
    )

    [node] = result["data"]["projects"]["nodes"]
    assert node["bare"]["nodes"] == [{"assignee": {"name": owner.name}}]
    assert node["dated"]["nodes"] == [{"assignee": me}]
    assert node["owner"] == me
    [edge] = result["data"]["tasks"]["edges"]
    assert edge["node"]["assignee"] == me
