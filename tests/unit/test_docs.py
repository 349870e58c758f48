"""The docs cannot drift from the code: every GraphQL snippet in README.md and docs/
validates against the schema, every example file too (tests/integration/test_tour.py
runs them), the configuration reference lists exactly the variables Settings reads,
and relative links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    GraphQLSchema,
    GraphQLSyntaxError,
    parse,
    validate,
)

from graph.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
EXAMPLES = sorted((DOCS / "examples").glob("*.graphql"))
FENCE = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
SETTING_READ = re.compile(r'"(TRACKQL_[A-Z_]+)"')
SETTING_ROW = re.compile(r"^\| `(TRACKQL_[A-Z_]+)` \|", re.MULTILINE)


def snippets() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, match in enumerate(FENCE.finditer(page.read_text()), start=1):
            found.append((f"{page.relative_to(ROOT)}#{number}", match[1]))
    found += [(str(p.relative_to(ROOT)), p.read_text()) for p in EXAMPLES]
    return found


SNIPPETS = snippets()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def parse_snippet(snippet: str) -> DocumentNode:
    try:
        return parse(snippet)
    except GraphQLSyntaxError:
        # A selection set shown on its own (security.md's cost example) is checked
        # as the query it would be the body of.
        return parse("{\n" + snippet + "\n}")


def test_the_docs_hold_graphql_snippets_and_examples() -> None:
    assert len(SNIPPETS) >= 10
    assert EXAMPLES, "docs/examples holds no .graphql file"


@pytest.mark.parametrize(("where", "snippet"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_each_graphql_snippet_validates_against_the_schema(
    schema: GraphQLSchema, where: str, snippet: str
) -> None:
    document = parse_snippet(snippet)

    errors = validate(schema, document)

    assert errors == []


def test_the_configuration_reference_lists_exactly_the_settings_read() -> None:
    read = set(SETTING_READ.findall((ROOT / "graph" / "settings.py").read_text()))
    listed = SETTING_ROW.findall((DOCS / "configuration.md").read_text())

    assert sorted(listed) == sorted(read)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_lead_to_files(page: Path) -> None:
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]

    missing = [t for t in targets if not (page.parent / t).exists()]

    assert missing == []
