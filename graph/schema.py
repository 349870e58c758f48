"""The schema: each area's queries and mutations, composed, with the extensions that
give every operation its transaction and every error its code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.printer import print_schema
from strawberry.types import ExecutionContext, ExecutionResult

from graph.account_mutations import AccountsMutation
from graph.accounts import AccountsQuery, user_node
from graph.context import Context
from graph.direct_resolvers import call_resolvers_directly
from graph.errors import ErrorShaping
from graph.execution import TrackqlExecutionContext
from graph.extension_hooks import ClassHooksRunner
from graph.fast_path import PreparedRequest, execute_prepared
from graph.profile import SchemaPolicy, document_defences
from graph.projects import ProjectsMutation, ProjectsQuery, project_node
from graph.relay import Node, parse_global_id
from graph.scalars import DATETIME
from graph.task_events import TasksSubscription
from graph.tasks import TasksMutation, TasksQuery, task_node
from graph.text_input import RefuseNulText
from graph.transactions import OperationTransaction

NodeResolver = Callable[[Context, int], Awaitable[Node | None]]
NODE_RESOLVERS: dict[str, NodeResolver] = {
    "User": user_node,
    "Project": project_node,
    "Task": task_node,
}


@strawberry.type
class Query(AccountsQuery, ProjectsQuery, TasksQuery):
    @strawberry.field(description="Refetch any object by its global ID.")
    async def node(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> Node | None:
        parsed = parse_global_id(id)
        users = (parsed[1],) if parsed is not None and parsed[0] == "User" else ()
        await info.context.require_actor(with_users=users)
        if parsed is None or parsed[0] not in NODE_RESOLVERS:
            return None
        type_name, ident = parsed
        return await NODE_RESOLVERS[type_name](info.context, ident)


@strawberry.type
class Mutation(AccountsMutation, ProjectsMutation, TasksMutation):
    pass


@strawberry.type
class Subscription(TasksSubscription):
    pass


class TrackqlSchema(strawberry.Schema):
    def __init__(
        self, *args: Any, policy: SchemaPolicy | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy or SchemaPolicy()
        call_resolvers_directly(self)

    async def execute_prepared(
        self, request: PreparedRequest, context: Context
    ) -> ExecutionResult | None:
        """`execute` for a document that passed parsing, validation and the cost
        limit before; None when the request needs `execute` (graph/fast_path.py)."""
        return await execute_prepared(
            self._schema,
            self.execution_context_class,
            request,
            context,
            suggestions=self.policy.suggestions,
        )

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ClassHooksRunner(execution_context, extensions)

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Expected errors are not logged; ErrorShaping logs the unexpected ones."""


def build_schema(
    policy: SchemaPolicy | None = None, subscription: type | None = None
) -> strawberry.Schema:
    """The schema under `policy` (SchemaPolicy.from_settings); the default, the
    development profile, serves tools such as export-schema."""
    policy = policy or SchemaPolicy()
    return TrackqlSchema(
        policy=policy,
        query=Query,
        mutation=Mutation,
        subscription=subscription or Subscription,
        scalar_overrides={datetime: DATETIME},
        execution_context_class=TrackqlExecutionContext,
        extensions=[
            ErrorShaping,
            OperationTransaction,
            RefuseNulText,
            *document_defences(policy),
        ],
    )


def export_schema(schema: strawberry.Schema | None = None) -> str:
    return print_schema(schema or build_schema()) + "\n"
