"""The GraphiQL page's example operations run against the schema as written."""

from __future__ import annotations

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse, validate

from graph.schema import build_schema
from graph.view import DEFAULT_DOCUMENT


def operation(name: str) -> DocumentNode:
    document = parse(DEFAULT_DOCUMENT)
    chosen = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    return DocumentNode(definitions=tuple(chosen))


@pytest.mark.parametrize("name", ["MyProjects", "CreateTask", "BulkComplete"])
def test_work_tracking_examples_validate_against_the_schema(name: str) -> None:
    schema = build_schema()._schema

    errors = validate(schema, operation(name))

    assert len(operation(name).definitions) == 1
    assert errors == []
