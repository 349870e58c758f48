"""The GraphQL endpoint: Strawberry's ASGI view with our context and error net."""

from __future__ import annotations

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from graph.auth import ANONYMOUS, BearerToken
from graph.context import Context
from graph.errors import shape_error
from graph.graphiql import graphiql_html
from graph.runtime import Runtime
from graph.subscriptions import TransportWSHandler, accept_connection

DEFAULT_DOCUMENT = """\
# Welcome to trackql. Sign in first: run `login`, and the Authorization header
# below is filled in for you.
mutation Login {
  login(input: {email: "demo@trackql.dev", password: "demo-password-1"}) {
    accessToken
    user { name }
  }
}

query Me {
  me { id name email role }
}
"""


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_html(default_query=DEFAULT_DOCUMENT))

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        runtime: Runtime = request.app.state.runtime
        bearer = request.scope.get("user")
        if not isinstance(bearer, BearerToken):
            bearer = ANONYMOUS
        return Context.create(runtime, bearer, request, response)

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
        return process_result(result)


def _ensure_code(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    return shape_error(error, None)


SUBSCRIPTION_PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
