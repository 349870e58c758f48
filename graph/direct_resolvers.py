"""Resolvers called directly, not through Strawberry's general chain.

Strawberry wraps every resolver in a chain that, on each call, works out the
GraphQL name of every argument, converts each value, runs field extensions and
exception handlers, and wraps async results in one more coroutine. A page of 200
tasks pays that chain for each task's `assignee`, and each of 20 projects for its
`tasks(first: 10)`, although these fields have no extension to run and their
scalar arguments nothing to convert. A field without extensions gets a resolver,
built once with the schema, that maps its arguments by names worked out once,
converts only input objects and other non-scalar values (with Strawberry's own
conversion), builds the Info when the function or a conversion needs it, and calls
the function.

A field may also have a batch form (`batched`): the same function for a list of
sources, which the executor calls once for the items of a list (the `tasks` of 20
projects) instead of the field's resolver once per item.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry import ID, Info, Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument, convert_argument
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

# Values graphql-core has already coerced into what the resolver receives.
_AS_GIVEN: tuple[object, ...] = (int, str, bool, float, ID)
F = TypeVar("F", bound=Callable[..., Any])
Many = Callable[..., Awaitable[Sequence[Any]]]
# The batch forms of resolver functions, by function.
_batch_forms: dict[Callable[..., Any], Many] = {}


def batched(many: Many) -> Callable[[F], F]:
    """Give an async resolver method a batch form: `many` takes a sequence of
    sources in place of the method's `self`, the method's other parameters by the
    same names, and returns one value per source, in order. Under a list, the
    executor calls `many` once for all items with the first item's Info (the same
    arguments, context and selection for each). An exception from it is every
    item's error. The method itself should be `many` for one source."""

    def mark(method: F) -> F:
        ours = list(inspect.signature(method).parameters)[1:]
        theirs = list(inspect.signature(many).parameters)[1:]
        if ours != theirs:
            raise TypeError(f"{many.__name__} does not take {method.__name__}'s {ours}")
        _batch_forms[method] = many
        return method

    return mark


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
        or definition.extensions
        or definition.is_subscription
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
    ):
        return None
    function = resolver.wrapped_func
    if isinstance(function, staticmethod | classmethod):
        return None  # a descriptor Strawberry binds to its type at call time
    info = resolver.info_parameter
    conversion = _Conversion(schema, definition.arguments)

    def caller(of: Callable[..., Any]) -> Call:
        return _caller(
            of,
            definition,
            conversion,
            schema.config.info_class,
            with_source=resolver.self_parameter is not None,
            info_name=None if info is None else info.name,
        )

    many = _batch_forms.get(function)
    plain = info is None and not conversion.has_arguments
    return DirectResolver(
        caller(function),
        is_async=resolver.is_async,
        wants_info=info is not None,
        batch=None if many is None else caller(many),
        of_source=function if plain and resolver.self_parameter is not None else None,
    )


def _as_given(argument: StrawberryArgument) -> bool:
    type_ = argument.type
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return type_ in _AS_GIVEN


class _Conversion:
    """The resolver's keyword arguments from graphql-core's argument values."""

    def __init__(self, schema: Schema, arguments: list[StrawberryArgument]) -> None:
        self._config = schema.config
        self._scalars = schema.schema_converter.scalar_registry
        names = schema.config.name_converter
        # (GraphQL name, Python name, the type to convert to or None when as given)
        self._names = tuple(
            (
                names.from_argument(argument),
                argument.python_name,
                None if _as_given(argument) else argument.type,
            )
            for argument in arguments
        )
        self.has_arguments = bool(self._names)
        self.needs_info = any(kind is not None for _, _, kind in self._names)

    def __call__(
        self, values: Mapping[str, Any], info: Info[Any, Any] | None
    ) -> dict[str, Any]:
        converted: dict[str, Any] = {}
        for graphql_name, python_name, kind in self._names:
            if graphql_name in values:
                value = values[graphql_name]
                if kind is not None:
                    value = convert_argument(
                        value,
                        kind,
                        self._scalars,
                        self._config,
                        info,
                        path=(graphql_name,),
                    )
                converted[python_name] = value
        return converted


Call = Callable[[Any, GraphQLResolveInfo[Any] | None, dict[str, Any]], Any]


class DirectResolver:
    """The function of a field, called with its source, its converted arguments
    and the Info it asks for; plans read whether it is async or wants an Info,
    whether it takes only its source, and whether it has a batch form."""

    __slots__ = ("_batch", "_call", "is_async", "of_source", "wants_info")

    def __init__(
        self,
        call: Call,
        *,
        is_async: bool,
        wants_info: bool,
        batch: Call | None = None,
        of_source: Callable[[Any], Any] | None = None,
    ) -> None:
        self._call = call
        self._batch = batch
        self.is_async = is_async
        self.wants_info = wants_info
        # The function itself when it takes only its source (Task.assignee): a
        # plan calls it so, once per row.
        self.of_source = of_source

    def __call__(
        self, source: Any, info: GraphQLResolveInfo[Any] | None, **values: Any
    ) -> Any:
        return self._call(source, info, values)

    @property
    def has_batch(self) -> bool:
        return self._batch is not None

    def batch(
        self,
        sources: Sequence[Any],
        info: GraphQLResolveInfo[Any] | None,
        values: dict[str, Any],
    ) -> Any:
        """The batch form's awaitable of one value per source."""
        assert self._batch is not None  # has_batch
        return self._batch(sources, info, values)


def _caller(
    function: Callable[..., Any],
    definition: StrawberryField,
    conversion: _Conversion,
    info_class: type[Info[Any, Any]],
    *,
    with_source: bool,
    info_name: str | None,
) -> Call:
    if info_name is None and not conversion.has_arguments:
        if with_source:
            return lambda source, _info, _values: function(source)
        return lambda _source, _info, _values: function()
    wants_info = info_name is not None or conversion.needs_info

    def call(
        source: Any, raw_info: GraphQLResolveInfo[Any] | None, values: dict[str, Any]
    ) -> Any:
        info = (
            info_class(_raw_info=raw_info, _field=definition)  # type: ignore[arg-type]
            if wants_info
            else None
        )
        kwargs = conversion(values, info)
        if info_name is not None:
            kwargs[info_name] = info
        if with_source:
            return function(source, **kwargs)
        return function(**kwargs)

    return call
