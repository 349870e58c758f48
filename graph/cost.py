"""The static cost of an operation, checked after validation and before execution.

    cost(selection set) = sum of cost(selection)
    cost(field)         = 1 + multiplier(field) * cost(its selection set)
    fragments and inline fragments add the cost of their selection set (every
    spread counts again; each fragment is compiled once and shared)

multiplier(field):
- a field that returns a connection (an object type with `edges` and `pageInfo`) or a
  list: its `first` or `last` argument, a literal or a variable (the larger of the two
  when both are given; a variable's value from the request, else its default in the
  operation); 20 when absent or null, the page size the resolvers use; clamped to
  0..100, because the resolvers refuse a larger page before doing any work;
- a field of a connection type (`edges`, `nodes`, `pageInfo`, `totalCount`): 1, as
  the connection field already counted its page;
- any other field: 1.
Introspection (`__schema`, `__type`) costs 1: it reads the schema, not the database,
and graphql-core's MaxIntrospectionDepthRule bounds its nesting.

The board query, `projects(first: 20) { edges { node { owner { name }
members { user { name } } tasks(first: 10) { edges { node { title assignee { name }
} } } } } }`, costs 1 + 20 * (1 + 1 + (2 + 41 + 51)) = 1,921 (its `nodes` form 1,701)
against a default limit of 5,000.

Variables feed the multipliers, so a plan is compiled once per document (kept in a
bounded LRU keyed by the query text) and evaluated for each request's variables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from strawberry.extensions import ValidationCache

from graph.limits import CACHE_SIZE, too_complex
from graph.prepared import PreparedDocument, remember
from persistence.keyset import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last")


def _clamp(size: int) -> int:
    return max(0, min(size, MAX_PAGE_SIZE))


@dataclass(frozen=True, slots=True)
class Multiplier:
    """The `first`/`last` of a field whose page size comes from variables."""

    literals: tuple[int, ...]
    variables: tuple[str, ...]

    def value(self, variables: Mapping[str, object]) -> int:
        given = [
            value
            for name in self.variables
            if isinstance(value := variables.get(name), int)
            and not isinstance(value, bool)
        ]
        sizes = [*self.literals, *given]
        return _clamp(max(sizes)) if sizes else DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True, eq=False)
class Cost:
    """fixed + sum(multiplier * cost) over `scaled`; shared between spreads, so it
    is evaluated with a memo to stay linear."""

    fixed: int
    scaled: tuple[tuple[Multiplier | int, Cost], ...] = ()

    def evaluate(self, variables: Mapping[str, object], memo: dict[int, int]) -> int:
        if id(self) not in memo:
            memo[id(self)] = self.fixed + sum(
                (m if isinstance(m, int) else m.value(variables))
                * inner.evaluate(variables, memo)
                for m, inner in self.scaled
            )
        return memo[id(self)]


@dataclass(frozen=True, slots=True)
class OperationCost:
    cost: Cost
    defaults: dict[str, int]

    def evaluate(self, variables: Mapping[str, object] | None) -> int:
        return self.cost.evaluate({**self.defaults, **(variables or {})}, {})


@dataclass(frozen=True, slots=True)
class CostPlan:
    operations: dict[str | None, OperationCost]

    def evaluate(
        self, operation_name: str | None, variables: Mapping[str, object] | None
    ) -> int:
        chosen = [
            operation
            for name, operation in self.operations.items()
            if operation_name is None or name == operation_name
        ]
        return max((operation.evaluate(variables) for operation in chosen), default=0)


def compile_cost(schema: GraphQLSchema, document: DocumentNode) -> CostPlan:
    """The cost plan of a document that passed validation."""
    compiler = _Compiler(schema, document)
    plan: dict[str | None, OperationCost] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            cost = compiler.selections(definition.selection_set, root)
            name = definition.name.value if definition.name else None
            plan[name] = OperationCost(cost, dict(_defaults(definition)))
    return CostPlan(plan)


def _defaults(operation: OperationDefinitionNode) -> Iterator[tuple[str, int]]:
    for variable in operation.variable_definitions or ():
        if isinstance(variable.default_value, IntValueNode):
            yield variable.variable.name.value, int(variable.default_value.value)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self._schema = schema
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._compiled: dict[str, Cost] = {}

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Cost:
        fixed = 0
        scaled: list[tuple[Multiplier | int, Cost]] = []
        for selection in selection_set.selections:
            multiplier: Multiplier | int = 1
            if isinstance(selection, FieldNode):
                fixed += 1
                found = self._field(selection, parent)
                if found is None:
                    continue
                multiplier, inner = found
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self._type(condition.name.value) if condition else parent
                inner = self.selections(selection.selection_set, scope)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = self._fragment(selection.name.value)
            if isinstance(multiplier, int) and not inner.scaled:
                fixed += multiplier * inner.fixed
            else:
                scaled.append((multiplier, inner))
        return Cost(fixed, tuple(scaled))

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None
    ) -> tuple[Multiplier | int, Cost] | None:
        if node.selection_set is None or node.name.value.startswith("__"):
            return None
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return None
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return None
        inner = self.selections(node.selection_set, get_named_type(definition.type))
        return _multiplier(node, definition, parent), inner

    def _fragment(self, name: str) -> Cost:
        if name not in self._compiled:
            definition = self._fragments[name]
            scope = self._type(definition.type_condition.name.value)
            self._compiled[name] = self.selections(definition.selection_set, scope)
        return self._compiled[name]

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self._schema.get_type(name)


def _multiplier(
    node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType
) -> Multiplier | int:
    if _is_connection(parent):
        return 1
    returned = get_nullable_type(definition.type)
    if not (
        isinstance(returned, GraphQLList) or _is_connection(get_named_type(returned))
    ):
        return 1
    literals: list[int] = []
    variables: list[str] = []
    for argument in node.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            if isinstance(argument.value, IntValueNode):
                literals.append(int(argument.value.value))
            elif isinstance(argument.value, VariableNode):
                variables.append(argument.value.name.value)
    if variables:
        return Multiplier(tuple(literals), tuple(variables))
    return _clamp(max(literals)) if literals else DEFAULT_PAGE_SIZE


def _is_connection(named: GraphQLNamedType | None) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and "edges" in named.fields
        and "pageInfo" in named.fields
    )


@dataclass(frozen=True)
class _Document:
    """A parsed document keyed by its text, which hashes far faster than the AST."""

    query: str
    document: DocumentNode = field(compare=False)


@lru_cache(maxsize=CACHE_SIZE)
def cached_plan(schema: GraphQLSchema, keyed: _Document) -> CostPlan:
    return compile_cost(schema, keyed.document)


class CostLimitedValidation(ValidationCache):
    """Strawberry's validation cache, then the cost limit on a valid operation, with
    the request's variables, before any resolver runs."""

    def __init__(self, max_cost: int) -> None:
        super().__init__(maxsize=CACHE_SIZE)
        self._max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Errors already recorded are LimitedParsing's refusals: keep them.
        if context.pre_execution_errors is None and document is not None:
            schema = context.schema._schema
            errors: list[GraphQLError] = self.cached_validate_document(
                schema, document, context.validation_rules
            )
            if not errors:
                errors = self._cost_errors(schema, context.query, document)
            context.pre_execution_errors = errors
        yield

    def _cost_errors(
        self, schema: GraphQLSchema, query: str | None, document: DocumentNode
    ) -> list[GraphQLError]:
        context = self.execution_context
        try:
            if query is None:
                plan = compile_cost(schema, document)
            else:
                plan = cached_plan(schema, _Document(query, document))
                prepared = PreparedDocument(document, plan, self._max_cost)
                remember(schema, query, prepared)
            cost = plan.evaluate(context.operation_name, context.variables)
        except RecursionError:
            return [too_complex("Query is too complex to estimate its cost")]
        if cost <= self._max_cost:
            return []
        return [
            too_complex(
                f"Query cost {cost} exceeds the limit of {self._max_cost}",
                cost=cost,
                maxCost=self._max_cost,
            )
        ]
