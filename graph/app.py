"""The Starlette application: routes, middleware and lifespan, in one table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from graph import graphiql, health
from graph.body_limit import BodySizeLimit
from graph.heap import settle_heap
from graph.profile import SchemaPolicy
from graph.runtime import Runtime
from graph.schema import build_schema
from graph.settings import Settings
from graph.shutdown import close_first_on_sigterm
from graph.sockets import GOING_AWAY
from graph.view import SUBSCRIPTION_PROTOCOLS, GraphQLView
from persistence.engine import is_sqlite, normalize_url
from persistence.migrate import upgrade


def create_app(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    schema: strawberry.Schema | None = None,
) -> Starlette:
    runtime = runtime or Runtime.build(settings)
    view = GraphQLView(
        schema or build_schema(SchemaPolicy.from_settings(settings)),
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=SUBSCRIPTION_PROTOCOLS,
        # CORS does not cover WebSocket handshakes; Strawberry's origin check does.
        allowed_origins=settings.cors_origins,
        max_subscriptions_per_connection=settings.max_subscriptions_per_user,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if is_sqlite(normalize_url(settings.database_url)):
            # The embedded default migrates itself; PostgreSQL deployments run
            # `trackql migrate` once, before starting workers.
            await upgrade(runtime.engine)
        runtime.mail.start()
        runtime.housekeeping.start()
        await runtime.events.start()

        async def say_goodbye() -> None:
            await runtime.sockets.close_all(GOING_AWAY, "server shutting down")

        with close_first_on_sigterm(say_goodbye):
            yield
        await runtime.housekeeping.stop()
        await say_goodbye()
        await runtime.close()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/health", health.ready),
            Route("/health/ready", health.ready),
            Route("/health/live", health.live),
            graphiql.static_mount(),
        ],
        middleware=[
            *_proxy_headers(settings),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
            ),
            # Inside CORS, so that a browser can read the 413.
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


def _proxy_headers(settings: Settings) -> list[Middleware]:
    """Take the client address (and scheme) from X-Forwarded-For (and -Proto) only
    when the peer is one of the configured proxies: anyone else could forge them,
    and the per-client rate limits count that address."""
    if not settings.trusted_proxies:
        return []
    trusted = list(settings.trusted_proxies)
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)]


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` and multi-worker serving."""
    app = create_app(Settings.from_env())
    settle_heap()
    return app
