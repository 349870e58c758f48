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
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

_MISSING = object()


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    attribute: str
    leaf_type: GraphQLLeafType


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
    return PlainLeaf(definition.python_name, named)


class TrackqlExecutionContext(StrawberryGraphQLCoreExecutionContext):
    @cached_property
    def _field_middleware(self) -> bool:
        # Strawberry always passes a manager; it wraps resolvers only when some
        # extension implements `resolve`, and then every field must go through it.
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        leaf = self._plain_leaf(parent_type, field_details_list[0].node.name.value)
        if leaf is not None and not self._field_middleware:
            value = getattr(source, leaf.attribute, _MISSING)
            if value is not None and value is not _MISSING:
                try:
                    coerced = leaf.leaf_type.coerce_output_value(value)
                except Exception:  # the general path reports it
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _plain_leaf(
        self, parent_type: GraphQLObjectType, name: str
    ) -> PlainLeaf | None:
        plans = _plans.get(self.schema)
        if plans is None:
            plans = _plans[self.schema] = {}
        key = (parent_type.name, name)
        try:
            return plans[key]
        except KeyError:
            pass
        field = parent_type.fields.get(name)
        plan = None if field is None else plain_leaf(field)
        plans[key] = plan
        return plan
