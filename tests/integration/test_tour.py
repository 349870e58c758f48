"""The explorer's tour, docs/examples/tour.graphql (GraphiQL's opening document), runs
end to end on the data `trackql seed-demo` writes, one operation after another and
with the header the explorer sets after `login`, as a person following it would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from starlette.applications import Starlette

from graph.cli import main
from graph.graphiql import TOUR
from graph.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TOUR_FILE = EXAMPLES / "tour.graphql"


@pytest.fixture
def demo(app: Starlette, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo data, written by the command the README tells people to run."""
    monkeypatch.setenv("TRACKQL_ENV", "test")
    monkeypatch.setenv("TRACKQL_DATABASE_URL", settings.database_url)
    assert main(["seed-demo"]) == 0


class Explorer:
    """Runs one named operation of the tour, carrying the Authorization header that
    the GraphiQL page fills in from a login answer."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}

    async def run(
        self, name: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": TOUR, "operationName": name, "variables": variables},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        token = body["data"].get("login", {}).get("accessToken")
        if token:
            self.headers = {"Authorization": f"Bearer {token}"}
        data: dict[str, Any] = body["data"]
        return data


def operation_names(document: str) -> list[str]:
    return [
        d.name.value
        for d in parse(document).definitions
        if isinstance(d, OperationDefinitionNode) and d.name
    ]


def test_the_explorer_opens_with_the_tour_file_from_the_docs() -> None:
    assert TOUR_FILE.read_text(encoding="utf-8") == TOUR
    # Each file here is run by a test of its own; a new one needs one too.
    # (task-events.graphql: tests/integration/test_task_subscriptions.py)
    assert sorted(p.name for p in EXAMPLES.glob("*.graphql")) == [
        "task-events.graphql",
        "tour.graphql",
    ]


async def test_the_tour_runs_end_to_end_on_the_demo_data(
    client: httpx.AsyncClient, demo: None
) -> None:
    explorer = Explorer(client)
    # Every operation of the tour is run below, in the order it is written.
    assert operation_names(TOUR) == [
        "Login",
        "Me",
        "MyProjects",
        "CreateTask",
        "BulkComplete",
    ]

    login = await explorer.run("Login")
    me = await explorer.run("Me")
    projects = (await explorer.run("MyProjects"))["projects"]
    website = next(p for p in projects["nodes"] if p["name"] == "Website relaunch")
    created = await explorer.run("CreateTask", {"projectId": website["id"]})
    open_ids = [t["id"] for t in website["tasks"]["nodes"] if not t["isCompleted"]]
    task_ids = [created["createTask"]["id"], *open_ids[:2]]
    bulk = await explorer.run("BulkComplete", {"taskIds": task_ids})

    assert login["login"]["user"] == {"name": "Dana Demo"}
    assert me["me"]["email"] == "demo@trackql.dev"
    assert projects["totalCount"] == 3
    assert {p["name"] for p in projects["nodes"]} == {
        "Website relaunch",
        "Mobile app 2.0",
        "Quarterly planning",
    }
    assert website["viewerCanUpdate"] is True
    assert website["tasks"]["totalCount"] == 6
    assert len(website["tasks"]["nodes"]) == 5
    assert website["tasks"]["pageInfo"]["hasNextPage"] is True
    assert created["createTask"]["project"] == {"name": "Website relaunch"}
    assert len(open_ids) >= 2
    assert bulk["bulkUpdateTasks"]["updatedCount"] == 3
    assert {t["id"] for t in bulk["bulkUpdateTasks"]["tasks"]} == set(task_ids)
    assert all(t["isCompleted"] for t in bulk["bulkUpdateTasks"]["tasks"])


async def test_the_tour_says_me_needs_the_login_header(
    client: httpx.AsyncClient, demo: None
) -> None:
    response = await client.post(
        "/graphql", json={"query": TOUR, "operationName": "Me"}
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
