"""The most common passwords, refused as new passwords (NIST SP 800-63B asks for a
check against passwords from breach corpuses instead of composition rules).

The list and its source are in common_passwords.txt beside this module.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

LIST_FILE = "common_passwords.txt"


def is_common(password: str) -> bool:
    return password.lower() in _passwords()


@cache
def _passwords() -> frozenset[str]:
    text = resources.files("domain").joinpath(LIST_FILE).read_text(encoding="utf-8")
    return frozenset(
        line for line in text.splitlines() if line and not line.startswith("#")
    )
