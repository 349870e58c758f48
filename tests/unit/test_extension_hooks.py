"""Hooks found once per extension class behave as Strawberry's own runner's: the same
hooks entered and left in the same order, with the same view of errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from graph.extension_hooks import ClassHooksRunner

Log = list[str]


def extensions(log: Log) -> list[SchemaExtension]:
    class SyncGenerator(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            log.append("sync generator enters")
            try:
                yield
            except ValueError as error:
                log.append(f"sync generator saw {error}")
                raise
            log.append("sync generator leaves")

    class AsyncGenerator(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            log.append("async generator enters")
            yield
            log.append("async generator leaves")

        async def on_execute(self) -> AsyncIterator[None]:
            log.append("async generator executes")
            yield

    class PlainCallables(SchemaExtension):
        def on_operation(self) -> None:  # type: ignore[override]
            log.append("plain sync hook")

        async def on_parse(self) -> None:  # type: ignore[override]
            log.append("plain async hook")

    class NoHooks(SchemaExtension):
        pass

    return [SyncGenerator(), AsyncGenerator(), PlainCallables(), NoHooks()]


RUNNERS = [SchemaExtensionsRunner, ClassHooksRunner]
# The runners keep the execution context for extensions; these use none of it.
NO_CONTEXT = cast(ExecutionContext, None)


async def run_steps(runner_type: Callable[..., SchemaExtensionsRunner]) -> Log:
    log: Log = []
    runner = runner_type(NO_CONTEXT, extensions(log))
    steps: list[Callable[[], AbstractAsyncContextManager[Any]]] = [
        runner.operation,
        runner.parsing,
        runner.validation,
        runner.executing,
    ]
    for step in steps:
        async with step():
            log.append(f"inside {step.__name__}")
    try:
        async with runner.operation():
            raise ValueError("boom")
    except ValueError:
        log.append("the error came through")
    return log


@pytest.mark.parametrize("runner_type", RUNNERS)
async def test_hooks_run_as_strawberry_runs_them(
    runner_type: Callable[..., SchemaExtensionsRunner],
) -> None:
    log = await run_steps(runner_type)

    assert log == await run_steps(SchemaExtensionsRunner)
    assert log[:6] == [
        "sync generator enters",
        "async generator enters",
        "plain sync hook",
        "inside operation",
        "async generator leaves",
        "sync generator leaves",
    ]
    assert log[-2:] == ["sync generator saw boom", "the error came through"]


async def test_a_hook_that_is_not_callable_is_refused_as_strawberry_refuses_it() -> (
    None
):
    class Broken(SchemaExtension):
        on_execute = "not a hook"  # type: ignore[assignment]

    for runner_type in RUNNERS:
        with pytest.raises(ValueError, match="must be callable"):
            runner_type(NO_CONTEXT, [Broken()]).executing()
