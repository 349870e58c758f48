"""The open GraphQL WebSockets of this process: whose they are, the per-user cap,
the close at token expiry, and closing them all at shutdown.

The cap counts sockets in this process only: with W workers behind a proxy, one user
may hold up to W times the cap in all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from domain.access import Actor
from domain.security import LEEWAY_SECONDS, AccessClaims

# Close codes: 4403 is graphql-transport-ws's Forbidden; 1001 and 1013 are RFC 6455's
# "going away" and "try again later", which graphql-ws clients retry with backoff.
FORBIDDEN = 4403
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013


class TooManySockets(Exception):
    """The user already holds the most sockets this process allows."""


@dataclass(eq=False)
class OpenSocket:
    websocket: WebSocket
    claims: AccessClaims
    actor: Actor
    checked_at: datetime
    expiry: asyncio.TimerHandle | None = None

    @property
    def expires_at(self) -> datetime:
        """When the token stops being accepted, with the leeway HTTP requests get."""
        return self.claims.expires_at + timedelta(seconds=LEEWAY_SECONDS)


async def close_socket(websocket: WebSocket, code: int, reason: str) -> None:
    """Close unless already closed; a client that has gone needs no goodbye."""
    if websocket.application_state is not WebSocketState.CONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect):
        await websocket.close(code=code, reason=reason)


class SocketRegistry:
    def __init__(self, max_per_user: int) -> None:
        self.max_per_user = max_per_user
        # WebSocket is a Mapping, hence unhashable: keyed by identity.
        self._sockets: dict[int, OpenSocket] = {}
        self._per_user: Counter[int] = Counter()
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._sockets)

    def count(self, user_id: int) -> int:
        return self._per_user[user_id]

    def get(self, websocket: WebSocket) -> OpenSocket | None:
        return self._sockets.get(id(websocket))

    def admit(
        self, websocket: WebSocket, claims: AccessClaims, actor: Actor, now: datetime
    ) -> OpenSocket:
        if self._per_user[actor.user_id] >= self.max_per_user:
            raise TooManySockets(
                f"too many connections for this user (at most {self.max_per_user})"
            )
        socket = OpenSocket(websocket, claims, actor, checked_at=now)
        delay = (socket.expires_at - now).total_seconds()
        socket.expiry = asyncio.get_running_loop().call_later(
            delay, self._close_later, websocket, FORBIDDEN, "access token expired"
        )
        self._sockets[id(websocket)] = socket
        self._per_user[actor.user_id] += 1
        return socket

    def release(self, websocket: WebSocket) -> None:
        socket = self._sockets.pop(id(websocket), None)
        if socket is None:
            return
        if socket.expiry is not None:
            socket.expiry.cancel()
        self._per_user[socket.actor.user_id] -= 1
        if not self._per_user[socket.actor.user_id]:
            del self._per_user[socket.actor.user_id]

    async def close_all(self, code: int, reason: str) -> None:
        sockets = [socket.websocket for socket in self._sockets.values()]
        await asyncio.gather(*(close_socket(ws, code, reason) for ws in sockets))

    def _close_later(self, websocket: WebSocket, code: int, reason: str) -> None:
        task = asyncio.ensure_future(close_socket(websocket, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
