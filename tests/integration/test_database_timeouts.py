"""A database that hangs instead of refusing: the timeouts bound every answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Iterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import text

from domain.models import utcnow
from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from tests.conftest import POSTGRES_URL, SECRET


@pytest.fixture
def hung_database() -> Iterator[str]:
    """A PostgreSQL URL whose port completes TCP handshakes and then says nothing,
    as a server that is stuck (or a half-dead load balancer) does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        yield f"postgresql://trackql:hunter2@127.0.0.1:{port}/secretdb"


async def timed(pending: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await pending
    return response, time.monotonic() - started


async def test_a_hung_database_is_service_unavailable_within_five_seconds(
    hung_database: str,
) -> None:
    settings = Settings(secret_key=SECRET, database_url=hung_database, env="test")
    runtime = Runtime.build(settings)
    token = runtime.signer.issue(1, "session", utcnow())
    transport = httpx.ASGITransport(app=create_app(settings, runtime))

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        graphql, graphql_took = await timed(
            client.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"authorization": f"Bearer {token}"},
            )
        )
        ready, ready_took = await timed(client.get("/health/ready"))
        live, live_took = await timed(client.get("/health/live"))
    await runtime.close()

    assert graphql.status_code == 200
    assert graphql.json()["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert graphql_took < 5
    assert (ready.status_code, live.status_code) == (503, 200)
    assert ready_took < 5
    assert live_took < 1
    for body in (graphql.text, ready.text):
        assert "hunter2" not in body
        assert "secretdb" not in body
        assert "Traceback" not in body


@pytest.mark.skipif(POSTGRES_URL is None, reason="a PostgreSQL server setting")
async def test_the_configured_statement_timeout_is_set_on_every_connection(
    settings: Settings,
) -> None:
    configured = replace(
        settings, pool=replace(settings.pool, statement_timeout_ms=1234)
    )
    runtime = Runtime.build(configured)
    try:
        async with runtime.engine.connect() as conn:
            shown = (await conn.execute(text("SHOW statement_timeout"))).scalar()
    finally:
        await runtime.close()

    assert shown == "1234ms"
