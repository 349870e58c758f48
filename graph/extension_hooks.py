"""Strawberry's schema-extension hooks, found once per extension class.

At each step of each request (operation, parsing, validation, execution) Strawberry
asks every extension for its hook: an inspect check, a fresh contextmanager
decorator (functools.update_wrapper) and a bound method, for eight extensions and
four steps. That was about a tenth of the CPU of a one-user read. Which hook a class
has never changes, so it is looked up and decorated once; each request then enters
the same context managers as before, in Strawberry's order and with its exit stack.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from asyncio import iscoroutinefunction
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# Called with the extension, returns the context manager of one step's hook.
HookFactory = Callable[[SchemaExtension], Any]


ClassHook = tuple[HookFactory, bool] | None
_class_hooks: dict[tuple[type[SchemaExtension], str], ClassHook] = {}


def class_hook(extension_type: type[SchemaExtension], name: str) -> ClassHook:
    """The hook `name` of an extension class and whether it is async; None when the
    class keeps SchemaExtension's (which does nothing)."""
    key = (extension_type, name)
    if key not in _class_hooks:
        _class_hooks[key] = _find_hook(extension_type, name)
    return _class_hooks[key]


def _find_hook(extension_type: type[SchemaExtension], name: str) -> ClassHook:
    """As Strawberry's ExtensionContextManagerBase.get_hook finds it, unbound."""
    hook_fn = getattr(extension_type, name)
    if hook_fn is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(hook_fn):
        return contextlib.contextmanager(hook_fn), False
    if inspect.isasyncgenfunction(hook_fn):
        return contextlib.asynccontextmanager(hook_fn), True
    if not callable(hook_fn):
        raise ValueError(
            f"Hook {name} on {extension_type} must be callable, received {hook_fn!r}"
        )
    if iscoroutinefunction(hook_fn):

        @contextlib.asynccontextmanager
        async def awaited(extension: SchemaExtension) -> AsyncIterator[None]:
            await hook_fn(extension)
            yield

        return awaited, True

    @contextlib.contextmanager
    def called(extension: SchemaExtension) -> Iterator[None]:
        hook_fn(extension)
        yield

    return called, False


class _ClassHooks(ExtensionContextManagerBase):
    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = class_hook(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        factory, is_async = found
        return WrappedHook(extension, functools.partial(factory, extension), is_async)


class _Operation(_ClassHooks, OperationContextManager):
    pass


class _Parsing(_ClassHooks, ParsingContextManager):
    pass


class _Validation(_ClassHooks, ValidationContextManager):
    pass


class _Executing(_ClassHooks, ExecutingContextManager):
    pass


class ClassHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of the four steps found per class."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
