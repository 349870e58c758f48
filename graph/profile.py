"""What the schema refuses and reveals: the document limits for every profile, and in
production no introspection (unless asked for) and no "Did you mean ...?" hints."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    SchemaExtension,
)

from graph.cost import CostLimitedValidation
from graph.limits import LimitedParsing, SingleUseMutations, limits_rule
from graph.settings import QueryLimits, Settings

ExtensionFactory = Callable[[], SchemaExtension]
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


@dataclass(frozen=True, slots=True)
class SchemaPolicy:
    limits: QueryLimits = field(default_factory=QueryLimits)
    introspection: bool = True
    suggestions: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> SchemaPolicy:
        return cls(
            limits=settings.query_limits,
            introspection=settings.introspection,
            suggestions=not settings.is_production,
        )


def document_defences(policy: SchemaPolicy) -> list[ExtensionFactory]:
    """Schema extensions that parse, validate and cost each document, in order."""
    # Built once: the validation cache is keyed by these rule classes. (graphql-core's
    # specified rules, which run first, include MaxIntrospectionDepthRule.)
    rules: list[type[ASTValidationRule]] = [
        limits_rule(policy.limits),
        SingleUseMutations,
    ]
    defences: list[ExtensionFactory] = [
        lambda: LimitedParsing(policy.limits),
        lambda: AddValidationRules(rules),
    ]
    if not policy.introspection:
        defences.append(DisableIntrospection)
    defences.append(lambda: CostLimitedValidation(policy.limits.max_cost))
    if not policy.suggestions:
        defences.append(HideSuggestions)
    return defences


class HideSuggestions(SchemaExtension):
    """Strips graphql-core's suggestions, which would spell out a schema whose
    introspection is off, from validation and variable-coercion messages alike."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = hide_suggestions(result.errors)


def hide_suggestions(errors: list[GraphQLError]) -> list[GraphQLError]:
    return [_without_suggestion(error) for error in errors]


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    # Wrapped errors too: ErrorShaping takes the message of a wrapped GraphQLError.
    original = error.original_error
    if isinstance(original, GraphQLError):
        original = _without_suggestion(original)
    message = _SUGGESTION.sub("", error.message)
    if message == error.message and original is error.original_error:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=error.extensions,
    )
