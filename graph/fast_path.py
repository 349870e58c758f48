"""A request whose document was prepared before, executed by graphql-core directly.

Strawberry's pipeline costs more per request than a small query's execution: eight
schema extensions instantiated and stepped through parsing, validation and
execution, when parsing and validation are cache hits. For a document that passed
them before (graph/prepared.py), this path does what those extensions do at
execution, with the same functions: it refuses nothing itself. A request that any
check would refuse (NUL text, a cost over the limit for its variables, variables
that fail coercion, an unknown operation name) is left to the general path, which
refuses it as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
)
from graphql.execution import Executor
from strawberry.types import ExecutionResult
from strawberry.utils.await_maybe import await_maybe

from graph.context import Context
from graph.errors import shape_errors
from graph.prepared import recall
from graph.profile import hide_suggestions
from graph.text_input import holds_nul, may_hold_nul
from graph.transactions import operation_transaction

EXECUTABLE = (OperationType.QUERY, OperationType.MUTATION)


async def execute_prepared(
    schema: GraphQLSchema,
    executor_class: type[Executor[Any]] | None,
    request: PreparedRequest,
    context: Context,
    *,
    suggestions: bool,
) -> ExecutionResult | None:
    """The result of a request with a prepared document, or None when the request
    must take the general path."""
    prepared = recall(schema, request.query)
    if (
        prepared is None
        or may_hold_nul(request.query)
        or holds_nul(request.variables)
        or not prepared.within_cost(request.operation_name, request.variables)
    ):
        return None
    operation = get_operation_ast(prepared.document, request.operation_name)
    if operation is None or operation.operation not in EXECUTABLE:
        return None
    context.uow.writes = operation.operation is OperationType.MUTATION
    try:
        async with operation_transaction(context):
            result = await await_maybe(
                execute(
                    schema,
                    prepared.document,
                    context_value=context,
                    variable_values=request.variables,
                    operation_name=request.operation_name,
                    executor_class=executor_class,
                    operation_extensions=request.extensions,
                )
            )
            if refused_before_execution(result):
                # By variable coercion: nothing ran, nothing to commit, and the
                # general path words the refusal.
                context.uow.writes = False
                return None
    except Exception as exc:
        # A failed commit: answered as the general path answers it.
        failed = [GraphQLError(str(exc), original_error=exc)]
        return ExecutionResult(
            data=None, errors=shape_errors(failed, context.request_id)
        )
    if not result.errors:
        return ExecutionResult(data=result.data, errors=None)
    errors = result.errors if suggestions else hide_suggestions(result.errors)
    return ExecutionResult(
        data=result.data, errors=shape_errors(errors, context.request_id)
    )


def refused_before_execution(result: Any) -> bool:
    # Parse, validation, limit and variable-coercion errors come before execution:
    # no data, and no error has a path. Field errors always have one.
    return result.data is None and not any(error.path for error in result.errors or ())


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """The parts of a JSON request body this path understands."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None

    @classmethod
    def from_body(cls, body: object) -> PreparedRequest | None:
        """None for a body this path leaves to the general one."""
        if not isinstance(body, dict):
            return None  # a batch, or not a request at all
        query = body.get("query")
        variables = body.get("variables")
        operation_name = body.get("operationName")
        extensions = body.get("extensions")
        if (
            isinstance(query, str)
            and (variables is None or isinstance(variables, dict))
            and (operation_name is None or isinstance(operation_name, str))
            and (extensions is None or isinstance(extensions, dict))
        ):
            return cls(query, variables, operation_name, extensions)
        return None
