"""One transaction per operation, one savepoint per mutation field.

A mutation field that fails rolls back only its own savepoint; the operation commits at
its end, and events and emails queued by committed fields are released after that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.graphql import OperationType

from graph.context import Context


class OperationTransaction(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.uow.writes = (
                self.execution_context.operation_type is OperationType.MUTATION
            )
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            yield
            return
        async with operation_transaction(context):
            yield


@asynccontextmanager
async def operation_transaction(context: Context) -> AsyncIterator[None]:
    """Commits a writing operation that ran to its end; closes the context."""
    try:
        yield
        if context.uow.writes:
            await context.uow.commit()
    finally:
        await context.close()


class InSavepoint(FieldExtension):
    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: strawberry.Info[Context, None],
        **kwargs: Any,
    ) -> Any:
        async with info.context.uow.savepoint():
            return await next_(source, info, **kwargs)


mutation = partial(strawberry.mutation, extensions=[InSavepoint()])
