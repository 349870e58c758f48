"""graphql-core's executor with a short path for plain leaf fields.

Most fields of a response are attributes of an object already built (a task's
title, priority, isCompleted). graphql-core runs each through the general machinery
(a resolve info, the argument values, Strawberry's resolver chain, four completion
steps), which costs more than the rest of a list page. A leaf without resolver,
arguments or extensions is read and coerced here instead; anything unusual (null,
a value the scalar refuses) goes the general way, which reports it as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# Not a value: the field needs graphql-core's general path.
_GENERAL: Any = object()


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    attribute: str
    leaf_type: GraphQLLeafType
    non_null: bool


LeafPlans = dict[tuple[str, str], PlainLeaf | None]
_plans: WeakKeyDictionary[GraphQLSchema, LeafPlans] = WeakKeyDictionary()


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    """How to read `field` directly, or None when it needs the general path."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or not getattr(field.resolve, "_is_default", False):
        return None
    output = field.type
    named = output.of_type if isinstance(output, GraphQLNonNull) else output
    if not is_leaf_type(named):
        return None
    return PlainLeaf(definition.python_name, named, isinstance(output, GraphQLNonNull))


class TrackqlExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @cached_property
    def _leaf_plans(self) -> LeafPlans | None:
        """None when every field must take the general path: Strawberry always
        passes a middleware manager, which wraps resolvers only when some extension
        implements `resolve`."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        return _plans.setdefault(self.schema, {})

    @cached_property
    def _leaf_sets(self) -> dict[int, list[tuple[str, PlainLeaf]] | None]:
        # Keyed by id: graphql-core builds each selection's grouped field set once
        # per request and keeps it for the request, as long as this executor.
        return {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        # An object whose selected fields are all plain leaves (a user's name and
        # email) is read in one loop, without a path or a call per field.
        leaves = self._plain_leaves(parent_type, grouped_field_set)
        if leaves is not None:
            results: dict[str, Any] = {}
            for response_name, leaf in leaves:
                value = _read(leaf, source_value)
                if value is _GENERAL:
                    break
                results[response_name] = value
            else:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plain_leaves(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> list[tuple[str, PlainLeaf]] | None:
        sets = self._leaf_sets
        key = id(grouped_field_set)
        if key in sets:
            return sets[key]
        found = [
            (response_name, self._leaf(parent_type, field_details_list))
            for response_name, field_details_list in grouped_field_set.items()
        ]
        leaves = [(name, leaf) for name, leaf in found if leaf is not None]
        sets[key] = leaves if len(leaves) == len(found) else None
        return sets[key]

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        leaf = self._leaf(parent_type, field_details_list)
        if leaf is not None:
            value = _read(leaf, source)
            if value is not _GENERAL:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _leaf(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> PlainLeaf | None:
        plans = self._leaf_plans
        if plans is None:
            return None
        key = (parent_type.name, field_details_list[0].node.name.value)
        try:
            return plans[key]
        except KeyError:
            field = parent_type.fields.get(key[1])
            leaf = plans[key] = None if field is None else plain_leaf(field)
            return leaf


def _read(leaf: PlainLeaf, source: Any) -> Any:
    """The completed value of a plain leaf, or _GENERAL when its value needs
    graphql-core's general path (null where null is an error, a refused value)."""
    value = getattr(source, leaf.attribute, _GENERAL)
    if value is None:
        return _GENERAL if leaf.non_null else None
    if value is _GENERAL:
        return _GENERAL
    try:
        coerced = leaf.leaf_type.coerce_output_value(value)
    except Exception:  # the general path reports it
        return _GENERAL
    return _GENERAL if coerced is None or coerced is Undefined else coerced
