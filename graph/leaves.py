"""Plain leaf fields: attributes of a built object, read and coerced directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# Not a value: the field needs graphql-core's general path.
GENERAL: Any = object()

# Scalars whose output of a value of exactly this Python type is the value itself
# (an int within Int's 32 bits): a page's titles, flags and priorities skip the
# scalar's checks.
_AS_IS: dict[GraphQLLeafType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    attribute: str
    leaf_type: GraphQLLeafType
    non_null: bool
    as_is: type | None = field(init=False)  # see _AS_IS

    def __post_init__(self) -> None:
        object.__setattr__(self, "as_is", _AS_IS.get(self.leaf_type))

    def coerce(self, value: Any) -> Any:
        """The output value of `value`, or GENERAL when graphql-core must report
        it (null where null is an error, a value the type refuses)."""
        kind = type(value)
        if kind is self.as_is and (
            kind is not int or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
        ):
            return value
        if value is None:
            return GENERAL if self.non_null else None
        try:
            coerced = self.leaf_type.coerce_output_value(value)
        except Exception:  # the general path reports it
            return GENERAL
        return GENERAL if coerced is None or coerced is Undefined else coerced


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


def read_leaf(leaf: PlainLeaf, source: Any) -> Any:
    """The completed value of a plain leaf of `source`, or GENERAL."""
    value = getattr(source, leaf.attribute, GENERAL)
    kind = type(value)
    if kind is leaf.as_is and (
        kind is not int or GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
    ):
        return value
    if value is None:
        return GENERAL if leaf.non_null else None
    if value is GENERAL:
        return GENERAL
    try:
        coerced = leaf.leaf_type.coerce_output_value(value)
    except Exception:  # the general path reports it
        return GENERAL
    return GENERAL if coerced is None or coerced is Undefined else coerced
