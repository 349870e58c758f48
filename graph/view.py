"""The GraphQL endpoint: Strawberry's ASGI view with our context and error net, JSON
bodies only, and GraphQL over HTTP for `application/graphql-response+json`."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from graph.auth import read_bearer
from graph.context import Context
from graph.errors import shape_error
from graph.fast_path import PreparedRequest, refused_before_execution
from graph.graphiql import TOUR, graphiql_html
from graph.runtime import Runtime
from graph.schema import TrackqlSchema
from graph.subscriptions import TransportWSHandler, accept_connection

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response = None
        if request.method == "POST":
            response = await self._answer_prepared(request)
        if response is None:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                # Strawberry answers a malformed request in plain text; clients of
                # either media type parse JSON, so they get a GraphQL error body.
                response = _malformed_request(request, exc)
        await response(scope, receive, send)

    async def _answer_prepared(self, request: Request) -> Response | None:
        """The response to a JSON POST whose document was prepared before, or None
        for the general path. The body stays read: Request caches it for `run`."""
        schema = self.schema
        if (
            not isinstance(schema, TrackqlSchema)
            or _media_type(request.headers.get("content-type")) != JSON
        ):
            return None
        try:
            prepared = PreparedRequest.from_body(orjson.loads(await request.body()))
        except orjson.JSONDecodeError:
            return None
        if prepared is None:
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        result = await schema.execute_prepared(prepared, context)
        if result is None:
            return None
        response_data = await self.process_result(request, result)
        return self.create_response(response_data, sub_response)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            return await super().execute_single(
                request,
                request_adapter,
                sub_response,
                context,
                root_value,
                request_data,
            )
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                # GraphQL over HTTP: a mutation over GET is 405, POST allowed.
                raise HTTPException(405, exc.reason) from exc
            if isinstance(exc.__cause__, CannotGetOperationTypeError):
                # A well-formed request naming no operation of its document: a
                # request error like a validation error, answered the same way.
                return ExecutionResult(data=None, errors=[GraphQLError(exc.reason)])
            raise

    def encode_json(self, data: object) -> str:
        # orjson is several times faster than json on a page of a few hundred
        # objects. A str, not bytes: WebSocket messages must go as text frames.
        return orjson.dumps(data).decode()

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html(default_query=TOUR))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        runtime: Runtime = request.app.state.runtime
        header = request.headers.get("authorization")
        bearer = read_bearer(header, runtime.signer, runtime.clock)
        return Context.create(runtime, bearer, request, response)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        # A browser posts text/plain, form and multipart bodies across origins
        # without a CORS preflight: refusing them before reading is what stops CSRF.
        if request.method == "POST" and _media_type(request.content_type) != JSON:
            raise HTTPException(415, f"POST bodies must be {JSON}")
        return await super().parse_http_body(request)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object]:
        await accept_connection(context)
        return UnsetType()  # the singleton UNSET: a connection_ack without payload

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # A safety net for errors raised outside the ErrorShaping extension (for
        # example by a failed commit): nothing leaves without a code.
        if result.errors:
            result.errors = [_ensure_code(e) for e in result.errors]
        response = process_result(result)
        if refused_before_execution(result) and _negotiate(request) == GRAPHQL_RESPONSE:
            # GraphQL over HTTP: a request that never started executing has no data
            # entry, and its status (set in create_response) is 400.
            del response["data"]
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = _negotiate(request)
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers.add_vary_header("Accept")
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = GRAPHQL_RESPONSE
            if isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = 400
        return response


def _malformed_request(request: Request, exc: HTTPException) -> Response:
    code = "NOT_FOUND" if exc.status_code == 404 else "BAD_USER_INPUT"
    body: dict[str, Any] = {
        "errors": [{"message": exc.reason, "extensions": {"code": code}}]
    }
    headers = {"vary": "Accept"}
    if exc.status_code == 405:
        headers["allow"] = "POST" if request.method == "GET" else "GET, POST"
    return JSONResponse(
        body, exc.status_code, headers=headers, media_type=_negotiate(request)
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def _negotiate(request: Request | WebSocket) -> str:
    """GRAPHQL_RESPONSE when the client accepts it at least as much as JSON; JSON,
    the legacy answer, for everyone else."""
    weights: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        media_type, *parameters = part.split(";")
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[media_type.strip().lower()] = weight
    preferred = weights.get(GRAPHQL_RESPONSE, 0.0)
    return (
        GRAPHQL_RESPONSE
        if preferred > 0 and preferred >= weights.get(JSON, 0)
        else JSON
    )


def _ensure_code(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    return shape_error(error, None)


SUBSCRIPTION_PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
