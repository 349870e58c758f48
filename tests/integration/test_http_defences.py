"""The HTTP edge: CSRF (methods and content types), batching, CORS (and its
WebSocket counterpart) and the body cap."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from graph.app import create_app
from graph.runtime import Runtime
from graph.settings import Settings
from tests.conftest import ClientFor
from tests.factories import UserFactory

ME = json.dumps({"query": "{ me { id } }"})
ALLOWED_ORIGIN = "https://app.example.com"
KIB = 1024


@pytest.fixture
async def bearer(token_for: Any) -> dict[str, str]:
    token = await token_for(await UserFactory.create_async())
    return {"authorization": f"Bearer {token}"}


async def test_a_json_post_reaches_the_database(
    client: httpx.AsyncClient, bearer: dict[str, str], count_statements: Any
) -> None:
    with count_statements() as log:
        response = await client.post(
            "/graphql",
            content=ME,
            headers={**bearer, "content-type": "application/json"},
        )

    assert response.status_code == 200
    assert "errors" not in response.json()
    assert log.count > 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        None,
    ],
)
async def test_posts_a_browser_may_send_cross_site_are_refused_unread(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    count_statements: Any,
    content_type: str | None,
) -> None:
    headers = dict(bearer)
    if content_type is not None:
        headers["content-type"] = content_type

    with count_statements() as log:
        response = await client.post("/graphql", content=ME, headers=headers)

    assert response.status_code == 415
    assert log.count == 0


async def test_a_mutation_over_get_is_refused(
    client: httpx.AsyncClient, bearer: dict[str, str], count_statements: Any
) -> None:
    with count_statements() as log:
        response = await client.get(
            "/graphql",
            params={"query": "mutation { __typename }"},
            headers={**bearer, "accept": "application/json"},
        )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "mutations are not allowed" in response.text
    assert log.count == 0


async def test_a_query_over_get_still_works(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ me { id } }"},
        headers={**bearer, "accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["me"]["id"]


async def test_json_batches_are_refused(
    client: httpx.AsyncClient, bearer: dict[str, str], count_statements: Any
) -> None:
    batch = [{"query": "{ me { id } }"}, {"query": "{ me { email } }"}]

    with count_statements() as log:
        response = await client.post("/graphql", json=batch, headers=bearer)

    assert response.status_code == 400
    assert log.count == 0


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_cors_preflight_from_a_configured_origin_is_allowed(
    client_for: ClientFor, settings: Settings
) -> None:
    async with client_for(replace(settings, cors_origins=(ALLOWED_ORIGIN,))) as c:
        response = await c.options("/graphql", headers=preflight(ALLOWED_ORIGIN))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_cors_preflight_from_another_origin_is_refused(
    client_for: ClientFor, settings: Settings
) -> None:
    async with client_for(replace(settings, cors_origins=(ALLOWED_ORIGIN,))) as c:
        response = await c.options(
            "/graphql", headers=preflight("https://evil.example")
        )
        simple = await c.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": "https://evil.example"},
        )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in simple.headers


class Chunks:
    """A streamed body that records how much of it the server pulled."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size, self.sent = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b" " * self.size


async def test_a_declared_oversize_body_is_refused_without_reading_it(
    client_for: ClientFor, settings: Settings, count_statements: Any
) -> None:
    body = Chunks(count=8, size=KIB)

    async with client_for(replace(settings, max_body_bytes=4 * KIB)) as c:
        with count_statements() as log:
            response = await c.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", "content-length": "8192"},
            )

    assert response.status_code == 413
    assert body.sent == 0
    assert log.count == 0


async def test_a_streamed_body_is_cut_off_once_it_passes_the_cap(
    client_for: ClientFor, settings: Settings, count_statements: Any
) -> None:
    body = Chunks(count=100, size=KIB)

    async with client_for(replace(settings, max_body_bytes=4 * KIB)) as c:
        with count_statements() as log:
            response = await c.post(
                "/graphql", content=body, headers={"content-type": "application/json"}
            )

    assert response.status_code == 413
    assert body.sent == 5
    assert log.count == 0


async def test_the_default_cap_is_one_mebibyte(client: httpx.AsyncClient) -> None:
    query = "{ __typename }"
    body = json.dumps({"query": query, "variables": {"pad": ""}})
    padding = KIB * KIB - len(body)
    at_cap = json.dumps({"query": query, "variables": {"pad": " " * padding}})
    over = json.dumps({"query": query, "variables": {"pad": " " * (padding + 1)}})
    json_headers = {"content-type": "application/json"}

    accepted = await client.post("/graphql", content=at_cap, headers=json_headers)
    refused = await client.post("/graphql", content=over, headers=json_headers)

    assert accepted.status_code == 200
    assert refused.status_code == 413


async def websocket_handshake(app: Starlette, origin: str) -> list[Message]:
    """What the app sends to a browser opening a subscription socket from `origin`."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "wss",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"api.example.com"), (b"origin", origin.encode())],
        "subprotocols": ["graphql-transport-ws"],
        "server": ("api.example.com", 443),
        "client": ("203.0.113.9", 50000),
    }
    incoming = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("origin", "outcome"),
    [(ALLOWED_ORIGIN, "websocket.accept"), ("https://evil.example", "websocket.close")],
)
async def test_websocket_handshakes_follow_the_cors_origins(
    settings: Settings, runtime: Runtime, origin: str, outcome: str
) -> None:
    app = create_app(replace(settings, cors_origins=(ALLOWED_ORIGIN,)), runtime)

    sent = await websocket_handshake(app, origin)

    assert sent[0]["type"] == outcome
