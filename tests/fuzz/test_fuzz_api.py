"""Generated GraphQL documents against a running `trackql serve`: no answer may be
an HTTP 5xx or carry INTERNAL_SERVER_ERROR. Selected only by `nox -s fuzz`."""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql
import pytest
from graphql import GraphQLSchema, build_client_schema, get_introspection_query
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from bench.server import (
    postgres_database,
    running_server,
    server_env,
    trackql_command,
)
from graph.relay import to_global_id
from tests.conftest import POSTGRES_URL
from tests.fuzz.conftest import DEFAULT_EXAMPLES

pytestmark = pytest.mark.fuzz
KINDS = ("User", "Project", "Task", "ProjectMember")
PASSWORD = "correct horse battery staple"


@dataclass
class Target:
    """The live server, and a user whose token the generated documents carry."""

    http: httpx.Client
    log: Path
    token: str = ""

    def post(self, document: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        return self.http.post("/graphql", json={"query": document}, headers=headers)

    def sign_up(self) -> None:
        # A fresh user each time: a generated document may log out or deactivate us.
        email = f"fuzz-{secrets.token_hex(6)}@example.com"
        result = self.graphql(
            "mutation ($input: RegisterInput!) { register(input: $input) {"
            " accessToken } }",
            {"input": {"email": email, "password": PASSWORD, "name": "Fuzz"}},
        )
        self.token = result["register"]["accessToken"]
        seed(self)

    def failure(self, document: str, response: httpx.Response) -> str:
        log = self.log.read_text(errors="replace")[-3000:]
        return (
            f"{document}\n-> {response.status_code} {response.text}\nserver log:\n{log}"
        )

    def graphql(self, document: str, variables: dict[str, Any]) -> Any:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.post(
            "/graphql",
            json={"query": document, "variables": variables},
            headers=headers,
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def seed(target: Target) -> None:
    """A project of the user's own with tasks, so that small generated IDs reach
    rows the user may read and write."""
    project = target.graphql(
        'mutation { createProject(input: {name: "Fuzzed"}) { id } }', {}
    )["createProject"]["id"]
    for title in ("one", "two", "three"):
        target.graphql(
            "mutation ($p: ID!, $t: String!) { createTask(input: {projectId: $p,"
            " title: $t}) { id } }",
            {"p": project, "t": title},
        )


@contextmanager
def database(backend: str, folder: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder}/fuzz.db"
        return
    if POSTGRES_URL is None:
        pytest.skip("set TRACKQL_TEST_DATABASE_URL to fuzz on PostgreSQL too")
    with postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    with (
        tempfile.TemporaryDirectory(prefix="trackql-fuzz-") as folder,
        database(request.param, folder) as url,
    ):
        env = server_env(url)
        env.update(TRACKQL_ENV="test", TRACKQL_INTROSPECTION="true")
        subprocess.run([trackql_command(), "migrate"], env=env, check=True)
        log = Path(folder) / "server.log"
        with (
            running_server(env, 1, log) as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            target = Target(http, log)
            target.sign_up()
            yield target


@pytest.fixture(scope="module")
def schema(target: Target) -> GraphQLSchema:
    introspection = target.graphql(get_introspection_query(), {})
    return build_client_schema(introspection)


def ids() -> st.SearchStrategy[Any]:
    """Mostly IDs of rows that exist, some of the wrong kind, some garbage."""
    real = st.builds(
        lambda kind, ident: str(to_global_id(kind, ident)),
        st.sampled_from(KINDS),
        st.integers(min_value=-1, max_value=40) | st.integers(),
    )
    return st.one_of(real, st.text(max_size=30)).map(nodes.String)


def datetimes() -> st.SearchStrategy[Any]:
    # Any offset a real zone has, so that moments near year 1 and 9999 leave the
    # calendar when converted to UTC.
    offsets = st.integers(-14 * 60, 14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    moments = st.datetimes(timezones=st.just(UTC) | offsets).map(
        lambda d: d.isoformat()
    )
    return st.one_of(moments, st.text(max_size=30)).map(nodes.String)


def documents(schema: GraphQLSchema) -> st.SearchStrategy[str]:
    scalars = {"ID": ids(), "DateTime": datetimes()}
    valid = hypothesis_graphql.from_schema(schema, custom_scalars=scalars)
    invalid = hypothesis_graphql.from_schema(
        schema, custom_scalars=scalars, mode=hypothesis_graphql.Mode.NEGATIVE
    )
    return st.one_of(valid, invalid)


def internal_errors(response: httpx.Response) -> list[Any]:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return []
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    return [
        e
        for e in errors
        if (e.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]


def unauthenticated(response: httpx.Response) -> bool:
    return '"UNAUTHENTICATED"' in response.text


def test_no_generated_document_gets_a_server_error(
    target: Target, schema: GraphQLSchema, request: pytest.FixtureRequest
) -> None:
    @settings(
        max_examples=request.config.getoption("--max-examples", DEFAULT_EXAMPLES),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(document=documents(schema))
    def check(document: str) -> None:
        response = target.post(document)
        assert response.status_code < 500, target.failure(document, response)
        assert not internal_errors(response), target.failure(document, response)
        if unauthenticated(response):
            target.sign_up()

    check()
