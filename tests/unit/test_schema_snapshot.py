"""schema.graphql is the public contract: it must equal the exported schema."""

from __future__ import annotations

from pathlib import Path

from graph.schema import export_schema

COMMITTED = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_equals_the_exported_one() -> None:
    exported = export_schema()

    assert COMMITTED.read_text() == exported, (
        "schema.graphql is stale: run `trackql export-schema` and review the diff"
    )
