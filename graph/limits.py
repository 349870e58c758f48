"""Limits on GraphQL documents, checked once per document before anything runs.

Each limit answers QUERY_TOO_COMPLEX with `data: null` (docs/security.md):

- length: characters of the query text, refused before parsing;
- tokens: lexical tokens, counted by graphql-core's parser, which stops at the limit;
- depth: fields on the longest path from the root to a leaf, with fragments expanded,
  so `{ me { id } }` is 2 and a connection's `edges` and `node` are levels like any
  other field; introspection (`__schema`, `__type`) counts 1 and is bounded instead
  by graphql-core's MaxIntrospectionDepthRule;
- aliases and directives: counted with fragments expanded, a fragment spread twice
  counting twice;
- cost: graph/cost.py;
- `login`, `refreshToken`, `requestPasswordReset` and `resetPassword` at most once per
  operation, so that aliases cannot multiply a brute force.

Strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every
spread: a 230-token document of doubling fragments keeps them busy for seconds, and the
depth limiter raises KeyError on an unknown fragment. Here each fragment is measured
once, so a check is linear in the size of the document. The measures run as one
validation rule, which Strawberry's validation cache covers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)
from graphql.language.visitor import SKIP, VisitorAction
from strawberry.extensions import ParserCache

from graph.settings import QueryLimits

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
SINGLE_USE_MUTATIONS = frozenset(
    {"login", "refreshToken", "requestPasswordReset", "resetPassword"}
)
CACHE_SIZE = 256
_OVER_LIMIT_SUFFIX = "tokens. Parsing aborted."


def too_complex(
    message: str, nodes: Node | list[Node] | None = None, **details: Any
) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": TOO_COMPLEX, **details})


@dataclass(frozen=True, slots=True)
class Measures:
    depth: int = 0
    aliases: int = 0
    directives: int = 0


class Measurer:
    """Measures the operations of one document, each fragment once. An unknown or
    cyclic spread measures 0: KnownFragmentNames and NoFragmentCycles report it."""

    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._measured: dict[str, Measures] = {}
        self._entered: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Measures:
        inner = self._selections(operation.selection_set)
        own = len(operation.directives or ()) + sum(
            len(variable.directives or ())
            for variable in operation.variable_definitions or ()
        )
        return Measures(inner.depth, inner.aliases, inner.directives + own)

    def _selections(self, selection_set: SelectionSetNode) -> Measures:
        depth = aliases = directives = 0
        for selection in selection_set.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                inner = (
                    self._selections(selection.selection_set)
                    if selection.selection_set
                    else Measures()
                )
                below = (
                    0 if selection.name.value in INTROSPECTION_ROOTS else inner.depth
                )
                depth = max(depth, 1 + below)
                aliases += int(selection.alias is not None)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value)
                depth = max(depth, inner.depth)
            else:
                assert isinstance(selection, InlineFragmentNode)
                inner = self._selections(selection.selection_set)
                depth = max(depth, inner.depth)
            aliases += inner.aliases
            directives += inner.directives
        return Measures(depth, aliases, directives)

    def _fragment(self, name: str) -> Measures:
        if name in self._measured:
            return self._measured[name]
        definition = self._fragments.get(name)
        if definition is None or name in self._entered:
            return Measures()
        self._entered.add(name)
        inner = self._selections(definition.selection_set)
        measures = Measures(
            inner.depth,
            inner.aliases,
            inner.directives + len(definition.directives or ()),
        )
        self._measured[name] = measures
        return measures


def operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield definition


def exceeded(
    measures: Measures, limits: QueryLimits, node: OperationDefinitionNode
) -> Iterator[GraphQLError]:
    if measures.depth > limits.max_depth:
        yield too_complex(
            f"Query depth {measures.depth} exceeds the limit of {limits.max_depth}",
            node,
            depth=measures.depth,
            maxDepth=limits.max_depth,
        )
    if measures.aliases > limits.max_aliases:
        yield too_complex(
            f"{measures.aliases} aliases exceed the limit of {limits.max_aliases}",
            node,
            aliases=measures.aliases,
            maxAliases=limits.max_aliases,
        )
    if measures.directives > limits.max_directives:
        yield too_complex(
            f"{measures.directives} directives exceed the limit of "
            f"{limits.max_directives}",
            node,
            directives=measures.directives,
            maxDirectives=limits.max_directives,
        )


def limits_rule(limits: QueryLimits) -> type[ValidationRule]:
    """The depth, alias and directive limits as a validation rule. Build it once per
    schema: the validation cache is keyed by the rule classes."""

    class DocumentLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> VisitorAction:
            measurer = Measurer(node)
            for operation in operations(node):
                try:
                    measures = measurer.operation(operation)
                except RecursionError:
                    self.report_error(too_complex("Query nests too deeply", operation))
                    continue
                for error in exceeded(measures, limits, operation):
                    self.report_error(error)
            return SKIP

    return DocumentLimits


class SingleUseMutations(ValidationRule):
    """Each of SINGLE_USE_MUTATIONS at most once per operation: under aliases, one
    request could otherwise try a hundred passwords past the rate limits."""

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: Any
    ) -> VisitorAction:
        if node.operation is OperationType.MUTATION:
            keys: dict[str, set[str]] = {}
            self._collect(node.selection_set, keys, set())
            for name, response_keys in sorted(keys.items()):
                if len(response_keys) > 1:
                    self.report_error(
                        too_complex(
                            f"{name} may appear only once per operation",
                            node,
                            field=name,
                        )
                    )
        return SKIP

    def _collect(
        self,
        selection_set: SelectionSetNode,
        keys: dict[str, set[str]],
        entered: set[str],
    ) -> None:
        # Fields that share a response key are merged and run once, so distinct
        # response keys (aliases) are what multiplies a field.
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in SINGLE_USE_MUTATIONS:
                    key = selection.alias.value if selection.alias else name
                    keys.setdefault(name, set()).add(key)
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, keys, entered)
            elif (
                isinstance(selection, FragmentSpreadNode)
                and selection.name.value not in entered
            ):
                entered.add(selection.name.value)
                fragment = self.context.get_fragment(selection.name.value)
                if fragment is not None:
                    self._collect(fragment.selection_set, keys, entered)


class LimitedParsing(ParserCache):
    """Strawberry's parser cache behind the length and token limits: a query over the
    length limit is refused before parsing, and the parser stops at the token limit
    (as Strawberry's MaxTokensLimiter makes it do, but answering with our code)."""

    def __init__(self, limits: QueryLimits) -> None:
        super().__init__(maxsize=CACHE_SIZE)
        self._limits = limits

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        refusal = self._parse(context.query or "")
        if refusal is not None:
            # Reported as a pre-execution error rather than raised: an exception
            # here would escape Schema.stream, which WebSockets and SSE use.
            context.pre_execution_errors = [refusal]
            context.graphql_document = stand_in(context.operation_name)
        yield

    def _parse(self, query: str) -> GraphQLError | None:
        """Parses into the context, or tells which limit the query is over."""
        limits = self._limits
        if len(query) > limits.max_length:
            return too_complex(
                f"Query of {len(query)} characters exceeds the limit of "
                f"{limits.max_length}",
                length=len(query),
                maxLength=limits.max_length,
            )
        try:
            self.execution_context.graphql_document = self.cached_parse_document(
                query, max_lexical_tokens=limits.max_tokens
            )
        except GraphQLSyntaxError as error:
            if error.message.endswith(_OVER_LIMIT_SUFFIX):
                return too_complex(
                    f"Query has more than {limits.max_tokens} tokens",
                    maxTokens=limits.max_tokens,
                )
            # Left unparsed: Strawberry parses it again inside its own guard and
            # reports the syntax error like that of any other invalid document.
        return None


def stand_in(operation_name: str | None) -> DocumentNode:
    """A document for a refused query, so that Strawberry can still find the
    requested operation and its type. Validation is skipped since the refusal is
    already recorded; were it validated, its one field does not exist."""
    field = FieldNode(name=NameNode(value="__refused"))
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=NameNode(value=operation_name) if operation_name else None,
        selection_set=SelectionSetNode(selections=(field,)),
    )
    return DocumentNode(definitions=(operation,))
