"""Unexpected errors leave as a generic INTERNAL_SERVER_ERROR, whatever the profile."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from graph.errors import INTERNAL_MESSAGE, shape_error


def test_an_unexpected_error_is_masked_with_a_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leak = RuntimeError("SELECT secret FROM users")
    error = GraphQLError("SELECT secret FROM users", original_error=leak)

    shaped = shape_error(error, "req-1")

    assert shaped.message == INTERNAL_MESSAGE
    assert shaped.extensions == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-1",
    }
    assert "req-1" in caplog.text
