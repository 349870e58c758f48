"""One request per operation, in-process on the benchmark's database: the SQL
statements it sends (counted by an SQLAlchemy event) and the first error it answers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event

from bench.operations import Body
from graph.app import create_app
from graph.settings import Settings

# Transaction control is not a query; the test suite's counter leaves it out too.
NOT_COUNTED = ("BEGIN", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True, slots=True)
class Probe:
    statements: int
    error: str  # "" when the answer had no error


@dataclass(frozen=True, slots=True)
class Request:
    key: str
    body: Body
    token: str | None


def probe_all(env: dict[str, str], requests: Sequence[Request]) -> dict[str, Probe]:
    """Each request twice (the first warms pools and caches); the second counts."""
    settings = Settings.from_env(env)
    return asyncio.run(_probe_all(settings, requests))


async def _probe_all(
    settings: Settings, requests: Sequence[Request]
) -> dict[str, Probe]:
    app = create_app(settings)
    statements: list[str] = []

    def record(*args: Any) -> None:
        if not str(args[2]).lstrip().upper().startswith(NOT_COUNTED):
            statements.append(args[2])

    async with app.router.lifespan_context(app):
        engine = app.state.runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            probes = {}
            for request in requests:
                await _post(c, request)
                statements.clear()
                error = await _post(c, request)
                probes[request.key] = Probe(len(statements), error)
        event.remove(engine, "before_cursor_execute", record)
    return probes


async def _post(client: httpx.AsyncClient, request: Request) -> str:
    headers = {"authorization": f"Bearer {request.token}"} if request.token else {}
    response = await client.post("/graphql", json=request.body, headers=headers)
    return error_of(response)


def error_of(response: httpx.Response) -> str:
    """The first error of an answer, as `CODE: message`, or "" for a clean one."""
    try:
        payload = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not errors:
        return "" if response.is_success else f"HTTP {response.status_code}"
    first = errors[0]
    code = (first.get("extensions") or {}).get("code", "ERROR")
    return f"{code}: {first.get('message', '')}"
