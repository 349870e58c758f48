"""Options of the fuzz session: `nox -s fuzz -- --max-examples 5000`."""

from __future__ import annotations

import pytest

DEFAULT_EXAMPLES = 200


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--max-examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help="generated GraphQL documents per fuzz test",
    )
