from __future__ import annotations

import re

import pytest

from persistence.events import postgres_channel, project_channel

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def test_a_project_channel_keeps_a_readable_name() -> None:
    assert postgres_channel(project_channel(42)) == "trackql_project_42"


@pytest.mark.parametrize(
    "channel", ["Project 42", "project:42", "a" * 200, "projet_é", '"; DROP', ""]
)
def test_any_channel_name_becomes_a_plain_identifier(channel: str) -> None:
    assert IDENTIFIER.fullmatch(postgres_channel(channel))


def test_names_that_sanitise_alike_stay_apart() -> None:
    names = {postgres_channel(c) for c in ["project 42", "project-42", "project_42"]}

    assert len(names) == 3
