"""load_now answers from a loader that holds the value, and converts each loaded
value once when given a memory of conversions."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from graph.loaders import Loader
from graph.lookahead import load_now

NAMES = {1: "ada", 2: "alan"}


async def _names(keys: Sequence[int]) -> list[str | None]:
    return [NAMES.get(key) for key in keys]


class Built:
    """A converted value, told apart by identity."""

    def __init__(self, name: str | None) -> None:
        self.name = name


async def test_a_loaded_value_is_answered_at_once_and_an_unloaded_one_later() -> None:
    loader = Loader(load_fn=_names)
    later = load_now(loader, 1, Built)
    assert inspect.isawaitable(later)
    assert (await later).name == "ada"

    now = load_now(loader, 1, Built)
    assert isinstance(now, Built)
    assert now.name == "ada"


async def test_with_a_memory_each_loaded_value_is_converted_once() -> None:
    loader = Loader(load_fn=_names)
    await loader.load_many([1, 2])
    converted: dict[tuple[object, int], tuple[object, Built]] = {}

    first = load_now(loader, 1, Built, converted)
    assert load_now(loader, 1, Built, converted) is first
    assert load_now(loader, 2, Built, converted) is not first
    assert load_now(loader, 1, Built) is not first  # no memory, a new conversion


async def test_a_value_loaded_again_is_converted_again() -> None:
    loader = Loader(load_fn=_names)
    await loader.load(1)
    converted: dict[tuple[object, int], tuple[object, Built]] = {}
    first = load_now(loader, 1, Built, converted)

    NAMES[1] = "ada lovelace"
    try:
        loader.clear(1)
        await loader.load(1)
        again = load_now(loader, 1, Built, converted)
    finally:
        NAMES[1] = "ada"
    assert isinstance(again, Built)
    assert again is not first
    assert again.name == "ada lovelace"
