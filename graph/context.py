"""The per-request context that resolvers read through `strawberry.Info`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypedDict, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from domain.access import Actor
from domain.accounts import caller_from_claims
from domain.credentials import AccountPolicy
from domain.errors import ServiceUnavailable, Unauthenticated
from domain.models import UserRecord
from domain.ports import Clock
from domain.security import AccessClaims
from graph.auth import ANONYMOUS, BearerToken
from graph.loaders import Loaders
from graph.runtime import Runtime
from persistence.uow import SqlUnitOfWork


class UseCaseDeps(TypedDict):
    """The keyword arguments every use case takes: `use_case(..., **deps)`."""

    uow: SqlUnitOfWork
    actor: Actor
    clock: Clock


class AccountDeps(TypedDict):
    """The keyword arguments of the account use cases anyone may call."""

    clock: Clock
    policy: AccountPolicy
    client: str | None


T = TypeVar("T")


@dataclass
class Context:
    runtime: Runtime
    uow: SqlUnitOfWork
    bearer: BearerToken = ANONYMOUS
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    # The graphql-transport-ws connection_init payload; Strawberry sets it.
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(init=False)
    _actor: Actor | None = field(default=None, init=False)
    # The session check in flight: sibling fields that need the caller share it.
    _actor_check: asyncio.Task[Actor] | None = field(default=None, init=False)
    # The caller's user as the session check read it: `me` then needs no statement
    # of its own. None before the check, and in mutations (see _check).
    caller: UserRecord | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.uow)

    @classmethod
    def create(
        cls,
        runtime: Runtime,
        bearer: BearerToken = ANONYMOUS,
        request: Request | WebSocket | None = None,
        response: Response | WebSocket | None = None,
    ) -> Context:
        return cls(runtime, _unit_of_work(runtime), bearer, request, response)

    @property
    def client_address(self) -> str | None:
        """The peer's address from the ASGI scope; behind trusted proxies,
        ProxyHeadersMiddleware (graph/app.py) has put the forwarded one there."""
        if self.request is None or self.request.client is None:
            return None
        return self.request.client.host

    @cached_property
    def request_id(self) -> str:
        """Named in the log and the answer of an unexpected error: made only then."""
        return uuid.uuid4().hex[:16]

    @cached_property
    def now(self) -> datetime:
        """One instant per request: every isOverdue and status filter of a response
        agrees, and loader keys that carry it still batch together."""
        return self.runtime.clock()

    def fork(self) -> Context:
        """A context for one operation of a WebSocket connection: the same caller
        and socket, its own unit of work and loaders."""
        forked = Context.create(self.runtime, self.bearer, self.request, self.response)
        forked.connection_params = self.connection_params
        return forked

    async def renew(self, actor: Actor | None) -> None:
        """Start over as for a new request (one subscription event): a fresh unit of
        work and loaders. `actor` is trusted as checked; None checks it again."""
        await self.uow.close()
        self.uow = _unit_of_work(self.runtime)
        self.loaders = Loaders(self.uow)
        self._actor = actor
        self._actor_check = None
        self.caller = None
        self.__dict__.pop("now", None)

    async def close(self) -> None:
        """End of the operation: the unit of work closes, and what the loaders
        loaded is let go. graphql-core's executor holds this context in a reference
        cycle of its own, which only the garbage collector frees: the rows (and
        the caller's) would otherwise wait for it, and it would walk them all (a
        tenth of Q2's time)."""
        await self.uow.close()
        self.loaders = Loaders(self.uow)
        self.caller = None

    async def actor(self, with_users: Collection[int] = ()) -> Actor | None:
        """The caller, or None when anonymous; a bad token raises UNAUTHENTICATED.
        The check, when this call starts it, also reads the users `with_users`
        names into the user loader, in the same statement: a field that needs the
        caller and then a user by id makes one round trip, not two."""
        if self._actor is None:
            if self.bearer.error is not None:
                raise self.bearer.error
            if self.bearer.claims is None:
                return None
            if self._actor_check is None:
                self._actor_check = asyncio.ensure_future(
                    self._check(self.bearer.claims, with_users)
                )
            # Shielded: one field's cancellation must not cancel its siblings' check.
            self._actor = await asyncio.shield(self._actor_check)
        return self._actor

    async def _check(self, claims: AccessClaims, with_users: Collection[int]) -> Actor:
        # Not in a mutation, whose fields may change the caller (or any user read
        # with them) after the check.
        keep = not self.uow.writes
        caller = await caller_from_claims(
            claims, uow=self.uow, also=with_users if keep else ()
        )
        if keep:
            self.caller = caller.user
            for user_id in with_users:
                self.loaders.user.prime(user_id, caller.also.get(user_id))
        return caller.actor

    async def require_actor(self, with_users: Collection[int] = ()) -> Actor:
        actor = await self.actor(with_users)
        if actor is None:
            raise Unauthenticated()
        return actor

    async def use_case_deps(self) -> UseCaseDeps:
        """The request's unit of work, the authenticated caller and the clock."""
        actor = await self.require_actor()
        return UseCaseDeps(uow=self.uow, actor=actor, clock=self.runtime.clock)

    def account_deps(self) -> AccountDeps:
        """The clock, the account policy and the client's address."""
        runtime = self.runtime
        return AccountDeps(
            clock=runtime.clock, policy=runtime.accounts, client=self.client_address
        )

    async def unless_client_leaves(self, work: Awaitable[T]) -> T:
        """`work`, given up if the HTTP client disconnects first. Under a flood of
        logins, clients that timed out would keep the hash threads busy for nobody
        while those still waiting time out in turn."""
        if not isinstance(self.request, Request):
            return await work
        job = asyncio.ensure_future(work)
        left = asyncio.ensure_future(_disconnect(self.request))
        try:
            done, _ = await asyncio.wait(
                (job, left), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            left.cancel()
            if not job.done():
                # A hash still queued for a thread is dropped, not made.
                job.cancel()
        if job in done:
            return job.result()
        raise ServiceUnavailable("the client closed the connection")

    async def read_apart(self, read: Callable[[SqlUnitOfWork], Awaitable[T]]) -> T:
        """`read` on a read-only unit of work of its own, closed before this returns:
        what a mutation decides before its transaction opens holds no connection
        afterwards (see domain.sessions.CheckedPassword)."""
        uow = _unit_of_work(self.runtime)
        try:
            return await read(uow)
        finally:
            await uow.close()


async def _disconnect(request: Request) -> None:
    """Returns when the client disconnects; the request's body was read before."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _unit_of_work(runtime: Runtime) -> SqlUnitOfWork:
    return SqlUnitOfWork(
        runtime.session_factory,
        drivers=runtime.drivers,
        task_events=runtime.task_events,
        notify_mail=runtime.mail.notify,
    )
