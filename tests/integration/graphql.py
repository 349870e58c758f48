"""Helpers for the work-tracking tests: global IDs and error codes."""

from __future__ import annotations

from typing import Any

from graph.relay import to_global_id


def gid(kind: str, ident: int) -> str:
    return str(to_global_id(kind, ident))


def error_code(result: dict[str, Any]) -> str:
    return str(result["errors"][0]["extensions"]["code"])


def error_fields(result: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = result["errors"][0]["extensions"]["fields"]
    return fields
