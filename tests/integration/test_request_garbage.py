"""A request's rows are freed when it ends, by reference counting: left in reference
cycles, they would wait for the garbage collector, which walks every one of them
(it cost Q2 of the benchmark a tenth of its time) and holds memory until it runs."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from domain.models import TaskRecord, UserRecord
from graph.accounts import UserType
from graph.tasks import TaskType
from tests.conftest import GraphQLClient
from tests.factories import TaskFactory, UserFactory, project_with_members

PAGE = """
{ projects(first: 5) { nodes { name owner { name }
    tasks(first: 5) { nodes { title assignee { name } } } } } }
"""
ROWS = (TaskRecord, UserRecord, TaskType, UserType)


@contextmanager
def collected_garbage() -> Iterator[Counter[type]]:
    """The objects that only the collector frees, by type, of the block's work."""
    found: Counter[type] = Counter()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.update(type(thing) for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_a_page_of_projects_and_tasks_leaves_no_row_to_the_collector(
    gql: GraphQLClient, token_for: Any
) -> None:
    viewer = await UserFactory.create_async()
    for _ in range(3):
        project = await project_with_members(viewer)
        for _ in range(4):
            await TaskFactory.create_async(project_id=project.id, assignee_id=viewer.id)
    client = gql.as_user(await token_for(viewer))
    first = await client(PAGE)  # caches and plans are built once, and kept

    with collected_garbage() as garbage:
        again = await client(PAGE)

    assert again == first
    assert len(first["data"]["projects"]["nodes"]) == 3
    assert {kind: garbage[kind] for kind in ROWS if garbage[kind]} == {}
