"""GraphQL over WebSocket (graphql-transport-ws): who may connect, and a context that
stays fresh for every operation and every event of a long-lived connection.

- Connecting: `connection_init` must carry `{"Authorization": "Bearer <access
  token>"}`; a missing, bad or expired token, a revoked session or an inactive user
  closes the socket with 4403, checked with a unit of work used for that check only.
  A user over TRACKQL_MAX_SUBSCRIPTIONS_PER_USER sockets in this process gets 1013.
- Operations: Strawberry builds one context per connection; each operation gets its
  own fork of it (its own unit of work and loaders), as operations run concurrently.
- Events: `event_stream` re-checks the caller and renews the operation's unit of
  work and loaders before each event, and closes the unit of work after it, so no
  database connection is held while a subscription waits.
- Bounds: the token's expiry (with the leeway HTTP requests get) is checked on
  every event, and the socket is closed with 4403 when it expires, idle or not.
  The session and the user (revoked,
  deactivated, role) are checked in the database again on the first event more
  than RECHECK_SECONDS after the previous check, so a revoked session receives
  nothing published later than RECHECK_SECONDS after its revocation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from starlette.websockets import WebSocket, WebSocketState
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
)

from domain.accounts import caller_from_claims
from domain.errors import Unauthenticated
from graph.auth import read_bearer
from graph.context import Context
from graph.sockets import (
    FORBIDDEN,
    TRY_AGAIN_LATER,
    OpenSocket,
    TooManySockets,
    close_socket,
)
from persistence.events import SubscriberOverflow, Subscription
from persistence.uow import SqlUnitOfWork

RECHECK_SECONDS = 30
# Events buffered per subscription before it counts as too slow and is cut off.
SUBSCRIBER_QUEUE = 100
OVERFLOW_REASON = "subscriber too slow: events were dropped; reconnect and refetch"

_operation_context: ContextVar[Context | None] = ContextVar(
    "trackql_operation_context", default=None
)


async def accept_connection(context: Context) -> None:
    """Strawberry's `on_ws_connect`: authenticate the connection, or reject it."""
    runtime = context.runtime
    header = _authorization(context.connection_params or {})
    bearer = read_bearer(header, runtime.signer, runtime.clock)
    if bearer.claims is None:
        raise ConnectionRejectionError()
    uow = SqlUnitOfWork(runtime.session_factory, drivers=runtime.drivers)
    try:
        actor = (await caller_from_claims(bearer.claims, uow=uow)).actor
    except Unauthenticated:
        raise ConnectionRejectionError() from None
    finally:
        await uow.close()
    context.bearer = bearer
    runtime.sockets.admit(websocket_of(context), bearer.claims, actor, runtime.clock())


def _authorization(params: dict[str, Any]) -> str | None:
    for name, value in params.items():
        if name.lower() == "authorization" and isinstance(value, str):
            return value
    return None


def websocket_of(context: Context) -> WebSocket:
    if not isinstance(context.response, WebSocket):
        raise TypeError("not a WebSocket context")
    return context.response


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with a context per operation.

    Strawberry passes the connection's one context to every operation, and each
    operation runs in its own task; a unit of work shared by two of them would
    interleave their statements and transactions. `context` reads the operation's
    fork inside an operation's task and the connection's context everywhere else.
    """

    @property
    def context(self) -> Context:
        return _operation_context.get() or self._connection

    @context.setter
    def context(self, value: Context) -> None:
        self._connection = value

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        own = self._connection.fork()
        # Set in this operation's task only: tasks copy context variables.
        _operation_context.set(own)
        try:
            await super().run_operation(operation)
        finally:
            await own.uow.close()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except TooManySockets as exc:
            await close_socket(
                websocket_of(self._connection), TRY_AGAIN_LATER, str(exc)
            )

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            self._connection.runtime.sockets.release(websocket_of(self._connection))

    async def send_message(self, message: Message) -> None:
        # Once the server has closed the socket (expired session, slow subscriber),
        # the operations still winding down have no one left to tell.
        websocket = websocket_of(self._connection)
        if websocket.application_state is WebSocketState.CONNECTED:
            await super().send_message(message)


@asynccontextmanager
async def event_stream(
    context: Context, channel: str, *, max_queue: int = SUBSCRIBER_QUEUE
) -> AsyncIterator[AsyncIterator[str]]:
    """Subscribe to `channel` for a subscription resolver; inside the block, every
    payload published from now on arrives through the iterator given.

    Each payload comes with `context` renewed for it (caller re-checked, fresh unit
    of work and loaders), and that unit of work is closed once the event has been
    resolved, so nothing is held while waiting. An expired or revoked session closes
    the socket with 4403, a subscriber more than `max_queue` events behind with
    1013; either way the iteration just ends. Yield results from inside the loop:
    anything resolved outside it uses the operation's unit of work, which stays
    open until the next event.
    """
    socket = context.runtime.sockets.get(websocket_of(context))
    if socket is None:
        raise Unauthenticated()
    bus = context.runtime.events
    async with await bus.subscribe(channel, max_queue=max_queue) as subscription:
        await context.uow.close()
        yield _payloads(context, socket, subscription)


async def _payloads(
    context: Context, socket: OpenSocket, subscription: Subscription
) -> AsyncIterator[str]:
    while (payload := await _next_event(context, socket, subscription)) is not None:
        try:
            yield payload
        finally:
            await context.uow.close()


async def _next_event(
    context: Context, socket: OpenSocket, subscription: Subscription
) -> str | None:
    try:
        payload = await anext(subscription)
        await _begin_event(context, socket)
    except StopAsyncIteration:
        return None
    except SubscriberOverflow:
        await close_socket(socket.websocket, TRY_AGAIN_LATER, OVERFLOW_REASON)
        return None
    except Unauthenticated as exc:
        await close_socket(socket.websocket, FORBIDDEN, exc.message)
        return None
    return payload


async def _begin_event(context: Context, socket: OpenSocket) -> None:
    now = context.runtime.clock()
    if now >= socket.expires_at:
        raise Unauthenticated("access token expired")
    stale = now - socket.checked_at >= timedelta(seconds=RECHECK_SECONDS)
    await context.renew(None if stale else socket.actor)
    if stale:
        socket.actor = await context.require_actor()
        socket.checked_at = now
