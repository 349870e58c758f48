from __future__ import annotations

import socket

import httpx

from domain.models import utcnow
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from tests.conftest import SECRET


async def test_health_is_ok_when_the_database_answers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_liveness_does_not_need_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.json() == {"status": "ok"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_database_is_503_and_service_unavailable_without_dsn() -> (
    None
):
    url = f"postgresql://trackql:hunter2@127.0.0.1:{closed_port()}/nowhere"
    runtime = Runtime.build(Settings(secret_key=SECRET, database_url=url, env="test"))
    app = create_app(runtime.settings, runtime)
    token = runtime.signer.issue(1, "session", utcnow())
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health/ready")
        graphql = await client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"authorization": f"Bearer {token}"},
        )

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "hunter2" not in response.text
    assert "nowhere" not in response.text
    error = graphql.json()["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert "hunter2" not in graphql.text
    assert "Traceback" not in graphql.text
