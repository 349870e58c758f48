"""The memory of prepared documents is bounded and keeps the recently used ones."""

from __future__ import annotations

from graphql import build_schema, parse

from graph.cost import compile_cost
from graph.limits import CACHE_SIZE
from graph.prepared import PreparedDocument, recall, remember

SCHEMA = build_schema(
    "type Query { hello: String items(first: Int): [Item] } type Item { name: String }"
)


def prepared(query: str) -> PreparedDocument:
    document = parse(query)
    return PreparedDocument(document, compile_cost(SCHEMA, document), max_cost=10)


def test_the_least_recently_used_document_is_forgotten_first() -> None:
    schema = build_schema("type Query { hello: String }")
    queries = [f"{{ a{n}: hello }}" for n in range(CACHE_SIZE + 1)]
    for query in queries[:CACHE_SIZE]:
        remember(schema, query, prepared("{ hello }"))

    assert recall(schema, queries[0]) is not None  # now the most recent
    remember(schema, queries[CACHE_SIZE], prepared("{ hello }"))

    assert recall(schema, queries[0]) is not None
    assert recall(schema, queries[1]) is None
    assert recall(schema, queries[CACHE_SIZE]) is not None


def test_documents_of_another_schema_are_not_recalled() -> None:
    remember(SCHEMA, "{ hello }", prepared("{ hello }"))

    assert recall(build_schema("type Query { hello: String }"), "{ hello }") is None


def test_the_cost_is_checked_for_each_requests_variables() -> None:
    document = prepared("query ($n: Int) { items(first: $n) { name } }")

    assert document.within_cost(None, {"n": 5})  # 1 + 5 * 1
    assert not document.within_cost(None, {"n": 50})
