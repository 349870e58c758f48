"""Refuses text containing NUL (U+0000) anywhere in a request's inputs.

PostgreSQL cannot store NUL in text and fails the statement, which would surface as
an internal error; SQLite would store it. Refusing it up front gives BAD_USER_INPUT
on every database, before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from graphql.language.visitor import BREAK, VisitorAction
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

NUL = "\x00"
MESSAGE = "text must not contain the NUL character (U+0000)"


class RefuseNulText(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if holds_nul(context.variables) or (
            document is not None
            and may_hold_nul(context.query)
            and _document_holds_nul(document)
        ):
            # A result set before execution makes Strawberry skip execution.
            error = GraphQLError(MESSAGE, extensions={"code": "BAD_USER_INPUT"})
            context.result = ExecutionResult(data=None, errors=[error])
        yield


def holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


def may_hold_nul(query: str | None) -> bool:
    # A string value holds NUL only as the raw character or as an escape, \u0000
    # or \u{0}: a document with neither needs no walk (nearly every document).
    return query is None or NUL in query or "\\u" in query


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> VisitorAction:
        if NUL in node.value:
            self.found = True
            return BREAK
        return None


def _document_holds_nul(document: DocumentNode) -> bool:
    finder = _NulFinder()
    visit(document, finder)
    return finder.found
