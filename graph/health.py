"""Liveness and readiness: is the process up, and does the database answer."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from graph.runtime import Runtime
from persistence.engine import ping

PING_TIMEOUT_SECONDS = 3.0


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        await asyncio.wait_for(ping(runtime.engine), PING_TIMEOUT_SECONDS)
    except TimeoutError:
        return _unavailable(f"no answer within {PING_TIMEOUT_SECONDS:g} s")
    except Exception as exc:
        # The exception's class only: its text may carry the DSN.
        return _unavailable(f"connection failed ({type(exc).__name__})")
    return JSONResponse({"status": "ok", "database": "ok"})


def _unavailable(reason: str) -> JSONResponse:
    body = {"status": "unavailable", "database": "unavailable", "reason": reason}
    return JSONResponse(body, status_code=503)
