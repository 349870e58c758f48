"""GraphQL over WebSocket: authentication at connection_init, a fresh context per
event, the session re-checks, slow subscribers, the per-user cap and shutdown.

The app under test serves a test-only subscription, `echo(channel)`, built on
graph.subscriptions.event_stream as `taskEvents` is, so that a test can publish any
payload at any moment (tests/integration/test_task_subscriptions.py covers
`taskEvents` itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import strawberry
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection

from domain.errors import NotFound
from domain.models import AuthSession, User, utcnow
from domain.security import LEEWAY_SECONDS, TokenSigner
from graph.app import create_app
from graph.context import Context
from graph.runtime import Runtime
from graph.schema import build_schema
from graph.settings import Settings
from graph.subscriptions import RECHECK_SECONDS, event_stream
from tests.factories import AuthSessionFactory, UserFactory
from tests.websocket import (
    bearer,
    closed,
    open_socket,
    receive,
    serve,
    subscribe,
    until,
)

ACK = {"type": "connection_ack"}
ECHO = "subscription ($c: String!) { echo(channel: $c) { payload viewerName } }"
# A payload of "hold" keeps its event unresolved until the channel's gate opens.
GATES: dict[str, asyncio.Event] = {}


@strawberry.type
class Echo:
    payload: str

    @strawberry.field
    async def viewer_name(self, info: strawberry.Info[Context, None]) -> str:
        if self.payload == "missing":
            raise NotFound.of("Thing", "missing")
        actor = await info.context.require_actor()
        user = await info.context.loaders.user.load(actor.user_id)
        assert user is not None
        return user.name


@strawberry.type
class EchoSubscription:
    @strawberry.subscription
    async def echo(
        self, info: strawberry.Info[Context, None], channel: str
    ) -> AsyncGenerator[Echo, None]:
        if channel == "hidden":
            raise NotFound.of("Channel", channel)
        async with event_stream(info.context, channel, max_queue=2) as payloads:
            yield Echo(payload="subscribed")
            async for payload in payloads:
                if payload == "hold":
                    await GATES[channel].wait()
                yield Echo(payload=payload)


@dataclass
class SteppedClock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, max_subscriptions_per_user=2)


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def runtime(runtime: Runtime, clock: SteppedClock) -> Runtime:
    runtime.clock = clock
    return runtime


@pytest.fixture
async def app(settings: Settings, runtime: Runtime) -> AsyncIterator[Starlette]:
    app = create_app(
        settings, runtime, schema=build_schema(subscription=EchoSubscription)
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await UserFactory.create_async(name="Ann")


async def connected(url: str, token: str) -> ClientConnection:
    client = await open_socket(url, bearer(token))
    assert await receive(client) == ACK
    return client


async def echoing(url: str, token: str, channel: str) -> ClientConnection:
    client = await connected(url, token)
    await subscribe(client, ECHO, {"c": channel})
    assert await payload_of(client) == "subscribed"
    return client


async def payload_of(client: ClientConnection) -> Any:
    message = await receive(client)
    assert isinstance(message, dict), message
    assert message["type"] == "next", message
    return message["payload"]["data"]["echo"]["payload"]


async def test_a_valid_access_token_is_acknowledged(
    url: str, user: User, token_for: Any
) -> None:
    client = await open_socket(url, bearer(await token_for(user)))

    assert await receive(client) == ACK


@pytest.mark.parametrize(
    "params",
    [None, {}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}],
)
async def test_a_missing_or_bad_token_is_closed_with_4403(
    url: str, params: dict[str, str] | None
) -> None:
    client = await open_socket(url, params)

    assert await receive(client) == 4403


async def test_a_revoked_session_is_closed_with_4403(
    url: str, user: User, runtime: Runtime
) -> None:
    revoked = await AuthSessionFactory.create_async(
        user_id=user.id, revoked_at=utcnow()
    )
    token = runtime.signer.issue(user.id, revoked.id, utcnow())

    client = await open_socket(url, bearer(token))

    assert await receive(client) == 4403


async def test_an_expired_token_is_closed_with_4403(
    url: str, user: User, runtime: Runtime
) -> None:
    live = await AuthSessionFactory.create_async(user_id=user.id)
    token = runtime.signer.issue(user.id, live.id, utcnow() - timedelta(hours=1))

    client = await open_socket(url, bearer(token))

    assert await receive(client) == 4403


async def test_an_inactive_user_is_closed_with_4403(
    url: str, session: AsyncSession, token_for: Any
) -> None:
    inactive = await UserFactory.create_async(is_active=False)

    client = await open_socket(url, bearer(await token_for(inactive)))

    assert await receive(client) == 4403


async def test_each_event_is_resolved_with_fresh_loaders(
    url: str, user: User, token_for: Any, runtime: Runtime, session: AsyncSession
) -> None:
    client = await echoing(url, await token_for(user), "project_1")

    await runtime.events.publish("project_1", "one")
    first = await receive(client)
    await session.execute(update(User).where(User.id == user.id).values(name="Bea"))
    await session.commit()
    await runtime.events.publish("project_1", "two")
    second = await receive(client)

    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["payload"]["data"]["echo"] == {"payload": "one", "viewerName": "Ann"}
    assert second["payload"]["data"]["echo"] == {"payload": "two", "viewerName": "Bea"}


async def test_a_waiting_subscription_holds_no_database_connection(
    url: str, user: User, token_for: Any, runtime: Runtime
) -> None:
    pool: Any = runtime.engine.pool
    token = await token_for(user)
    arranging = pool.checkedout()  # the factories' session
    client = await echoing(url, token, "project_1")

    await runtime.events.publish("project_1", "resolved with the database")
    await payload_of(client)

    await until(lambda: pool.checkedout() == arranging)


async def test_errors_of_an_event_carry_their_code(
    url: str, user: User, token_for: Any, runtime: Runtime
) -> None:
    client = await echoing(url, await token_for(user), "project_1")

    await runtime.events.publish("project_1", "missing")
    message = await receive(client)

    assert isinstance(message, dict)
    errors = message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]
    assert errors[0]["message"] == "Thing missing not found"


async def test_a_subscription_refused_up_front_gives_its_error_then_completes(
    url: str, user: User, token_for: Any
) -> None:
    client = await connected(url, await token_for(user))

    await subscribe(client, ECHO, {"c": "hidden"})
    refused = await receive(client)
    after = await receive(client)

    assert isinstance(refused, dict)
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert after == {"id": "1", "type": "complete"}


async def test_two_subscriptions_on_one_socket_each_receive_their_channel(
    url: str, user: User, token_for: Any, runtime: Runtime
) -> None:
    client = await connected(url, await token_for(user))
    await subscribe(client, ECHO, {"c": "project_1"}, operation_id="a")
    await subscribe(client, ECHO, {"c": "project_2"}, operation_id="b")
    started = [await receive(client), await receive(client)]

    await runtime.events.publish("project_2", "to b")
    to_b = await receive(client)
    await runtime.events.publish("project_1", "to a")
    to_a = await receive(client)

    assert {m["id"] for m in started if isinstance(m, dict)} == {"a", "b"}
    assert isinstance(to_b, dict)
    assert isinstance(to_a, dict)
    assert (to_b["id"], to_b["payload"]["data"]["echo"]["payload"]) == ("b", "to b")
    assert (to_a["id"], to_a["payload"]["data"]["echo"]["payload"]) == ("a", "to a")


async def test_a_revoked_session_stops_receiving_within_the_recheck_interval(
    url: str,
    user: User,
    token_for: Any,
    runtime: Runtime,
    session: AsyncSession,
    clock: SteppedClock,
) -> None:
    client = await echoing(url, await token_for(user), "project_1")

    await session.execute(update(AuthSession).values(revoked_at=utcnow()))
    await session.commit()
    await runtime.events.publish("project_1", "within the interval")
    delivered = await payload_of(client)
    clock.advance(RECHECK_SECONDS)
    await runtime.events.publish("project_1", "after it")

    assert delivered == "within the interval"
    assert await closed(client) == (4403, "session is no longer valid")


async def test_a_live_session_keeps_receiving_after_the_recheck(
    url: str, user: User, token_for: Any, runtime: Runtime, clock: SteppedClock
) -> None:
    client = await echoing(url, await token_for(user), "project_1")

    clock.advance(RECHECK_SECONDS)
    await runtime.events.publish("project_1", "rechecked")
    clock.advance(RECHECK_SECONDS)
    await runtime.events.publish("project_1", "rechecked again")

    assert await payload_of(client) == "rechecked"
    assert await payload_of(client) == "rechecked again"


async def test_an_event_after_the_token_expired_closes_the_socket(
    url: str, user: User, token_for: Any, runtime: Runtime, clock: SteppedClock
) -> None:
    client = await echoing(url, await token_for(user), "project_1")

    clock.advance(runtime.settings.access_token_minutes * 60 + LEEWAY_SECONDS + 1)
    await runtime.events.publish("project_1", "too late")

    assert await closed(client) == (4403, "access token expired")


async def test_an_idle_socket_is_closed_when_its_token_expires(
    url: str, user: User, runtime: Runtime
) -> None:
    brief = TokenSigner(runtime.settings.secret_key, timedelta(seconds=1))
    live = await AuthSessionFactory.create_async(user_id=user.id)
    # Accepted until a second from now, the leeway included.
    issued = utcnow() - timedelta(seconds=LEEWAY_SECONDS)
    client = await connected(url, brief.issue(user.id, live.id, issued))

    outcome = await closed(client)

    assert outcome == (4403, "access token expired")


async def test_a_slow_subscriber_is_cut_off_while_the_others_receive_everything(
    url: str, user: User, token_for: Any, runtime: Runtime
) -> None:
    GATES["project_1"] = asyncio.Event()
    slow = await echoing(url, await token_for(user), "project_1")
    probe = await runtime.events.subscribe("project_1", max_queue=10)

    for payload in ["hold", "1", "2", "3", "4"]:
        await runtime.events.publish("project_1", payload)
    seen = [await anext(probe) for _ in range(5)]
    GATES["project_1"].set()

    assert seen == ["hold", "1", "2", "3", "4"]
    code, reason = await closed(slow)
    assert code == 1013
    assert reason is not None
    assert "too slow" in reason


async def test_a_user_holds_at_most_the_configured_number_of_sockets(
    url: str, user: User, token_for: Any, runtime: Runtime
) -> None:
    token = await token_for(user)
    first = await connected(url, token)
    await connected(url, token)

    refused = await open_socket(url, bearer(token))
    refused_outcome = await closed(refused)
    other = await open_socket(
        url, bearer(await token_for(await UserFactory.create_async()))
    )
    await first.close()
    await until(lambda: runtime.sockets.count(user.id) == 1)
    again = await open_socket(url, bearer(token))

    assert refused_outcome[0] == 1013
    assert "too many connections" in (refused_outcome[1] or "")
    assert await receive(other) == ACK
    assert await receive(again) == ACK


async def test_shutdown_closes_open_sockets_with_going_away(
    settings: Settings, user: User, token_for: Any
) -> None:
    # Its own runtime: the lifespan's end closes it.
    app = create_app(settings, Runtime.build(settings))
    token = await token_for(user)

    async with serve(app) as url:
        async with app.router.lifespan_context(app):
            client = await connected(url, token)
        outcome = await closed(client)

    assert outcome == (1001, "server shutting down")
