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

from graph.auth import ANONYMOUS, BearerToken
from graph.context import Context
from graph.errors import shape_error
from graph.graphiql import graphiql_html
from graph.runtime import Runtime

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

# Your projects, each with its members and the five tasks due first.
query MyProjects {
  projects(first: 10) {
    totalCount
    nodes {
      id
      name
      viewerCanUpdate
      owner { name }
      members { role user { name } }
      tasks(first: 5, orderBy: {field: DUE_DATE, direction: ASC}) {
        totalCount
        nodes { id title priority dueDate isOverdue isCompleted assignee { name } }
      }
    }
  }
}

# Paste a project id from MyProjects into the variables: {"projectId": "..."}
mutation CreateTask($projectId: ID!) {
  createTask(input: {projectId: $projectId, title: "Try trackql", priority: 4}) {
    id
    title
    project { name }
  }
}

# All or nothing, up to 500 ids: {"taskIds": ["...", "..."]}
mutation BulkComplete($taskIds: [ID!]!) {
  bulkUpdateTasks(input: {taskIds: $taskIds, patch: {isCompleted: true}}) {
    updatedCount
    tasks { id title isCompleted completedAt }
  }
}
"""


class GraphQLView(GraphQL[Context, None]):
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
