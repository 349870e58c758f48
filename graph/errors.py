"""The one place where failures become GraphQL errors with an `extensions.code`.

Domain errors keep their code and message; a database that cannot be reached becomes
SERVICE_UNAVAILABLE; documents that fail to parse or validate are BAD_USER_INPUT;
anything else is masked as INTERNAL_SERVER_ERROR and logged with the request id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, ServiceUnavailable

log = logging.getLogger("trackql.errors")
INTERNAL_MESSAGE = "Internal server error"


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, PoolTimeout | InterfaceError | OperationalError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, ConnectionError | TimeoutError | asyncio.TimeoutError)


def shape_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if original is None:
        if error.extensions and "code" in error.extensions:
            return error
        return _with(error, error.message, {"code": "BAD_USER_INPUT"})
    if isinstance(original, GraphQLError):
        return shape_error(original, request_id)
    if isinstance(original, DomainError):
        return _with(error, original.message, original.extensions())
    if is_database_unavailable(original):
        unavailable = ServiceUnavailable()
        log.warning("database unavailable (request %s): %r", request_id, original)
        return _with(error, unavailable.message, unavailable.extensions())
    log.error("unexpected error (request %s)", request_id, exc_info=original)
    return _with(
        error,
        INTERNAL_MESSAGE,
        {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def shape_errors(
    errors: list[GraphQLError], request_id: str | None
) -> list[GraphQLError]:
    return [shape_error(error, request_id) for error in errors]


def _with(
    error: GraphQLError, message: str, extensions: dict[str, Any]
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorShaping(SchemaExtension):
    """Gives every error of a result its code; the outermost extension."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._shape(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription, before it is sent."""
        self._shape(result)
        yield

    def _shape(self, result: Any) -> None:
        # Shaping is idempotent: the last streamed result is seen again at the end.
        if result is not None and getattr(result, "errors", None):
            context = self.execution_context.context
            request_id = getattr(context, "request_id", None)
            result.errors = shape_errors(result.errors, request_id)
