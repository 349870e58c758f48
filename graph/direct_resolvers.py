"""Resolvers without arguments called directly, not through Strawberry's chain.

Strawberry wraps every resolver in a general chain: it converts arguments, runs
field extensions and exception handlers, and wraps async results in one more
coroutine. A page of 200 tasks pays that chain for each task's `assignee` and each
connection's `nodes`, although these fields have nothing to convert or run. Such a
field gets a resolver, built once with the schema, that only builds the Info (when
the function asks for it) and calls the function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry import Info, Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Resolve = Callable[..., Any]


def call_resolvers_directly(schema: Schema) -> int:
    """Give every field that qualifies its direct resolver; returns how many."""
    if schema.exception_handlers:
        return 0  # they may apply to any field: keep Strawberry's chain everywhere
    installed = 0
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            direct = direct_resolver(schema, field)
            if direct is not None:
                field.resolve = direct
                installed += 1
    return installed


def direct_resolver(schema: Schema, field: GraphQLField) -> DirectResolver | None:
    """The direct resolver of `field`, or None when it needs Strawberry's chain."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    resolver = definition.base_resolver
    if (
        resolver is None
        or field.args
        or definition.arguments
        or definition.extensions
        or definition.is_subscription
        or resolver.arguments
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
    ):
        return None
    function = resolver.wrapped_func
    if isinstance(function, staticmethod | classmethod):
        return None  # a descriptor Strawberry binds to its type at call time
    info = resolver.info_parameter
    return DirectResolver(
        function,
        definition,
        schema.config.info_class,
        with_source=resolver.self_parameter is not None,
        info_name=None if info is None else info.name,
        is_async=resolver.is_async,
    )


class DirectResolver:
    """The function of a field, called with its source and the Info it asks for."""

    __slots__ = ("_call", "definition", "is_async", "wants_info")

    def __init__(
        self,
        function: Callable[..., Any],
        definition: StrawberryField,
        info_class: type[Info[Any, Any]],
        *,
        with_source: bool,
        info_name: str | None,
        is_async: bool,
    ) -> None:
        self.definition = definition
        self.is_async = is_async
        self.wants_info = info_name is not None
        self._call = _caller(function, definition, info_class, with_source, info_name)

    def __call__(self, source: Any, info: GraphQLResolveInfo[Any] | None) -> Any:
        return self._call(source, info)


def _caller(
    function: Callable[..., Any],
    definition: StrawberryField,
    info_class: type[Info[Any, Any]],
    with_source: bool,
    info_name: str | None,
) -> Resolve:
    if info_name is None:
        if with_source:
            return lambda source, _info: function(source)
        return lambda _source, _info: function()

    def call(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=definition)
        if with_source:
            return function(source, **{info_name: strawberry_info})
        return function(**{info_name: strawberry_info})

    return call
