"""Documents that have passed every check that depends on the document alone.

The first request with a document goes through Strawberry's pipeline: parsing under
the limits, validation with our rules, the cost limit. A document that passed is
remembered here by its text, with its cost plan, so that later requests with the
same text can skip that pipeline (graph/schema.py, `execute_prepared`). What
depends on the request (variables, operation name, the cost for those variables)
is still checked on every request.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from graphql import DocumentNode, GraphQLSchema

from graph.limits import CACHE_SIZE

if TYPE_CHECKING:
    from graph.cost import CostPlan  # graph.cost remembers documents here


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    document: DocumentNode
    cost: CostPlan
    max_cost: int

    def within_cost(
        self, operation_name: str | None, variables: dict[str, object] | None
    ) -> bool:
        try:
            return self.cost.evaluate(operation_name, variables) <= self.max_cost
        except RecursionError:
            return False


_prepared: WeakKeyDictionary[GraphQLSchema, OrderedDict[str, PreparedDocument]] = (
    WeakKeyDictionary()
)


def remember(schema: GraphQLSchema, query: str, prepared: PreparedDocument) -> None:
    documents = _prepared.setdefault(schema, OrderedDict())
    documents[query] = prepared
    documents.move_to_end(query)
    # Bounded like the parser and validation caches: unique texts from a public
    # endpoint must not grow memory without limit.
    while len(documents) > CACHE_SIZE:
        documents.popitem(last=False)


def recall(schema: GraphQLSchema, query: str) -> PreparedDocument | None:
    documents = _prepared.get(schema)
    if documents is None:
        return None
    prepared = documents.get(query)
    if prepared is not None:
        documents.move_to_end(query)
    return prepared
