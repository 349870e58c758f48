"""Loader.load_many: one batch, values in the order of the keys, and a failed
batch's error raised once, with no error left unretrieved for the event loop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Sequence
from typing import Any

from graph.loaders import Loader

BATCHES: list[list[int]] = []


async def _squares(keys: Sequence[int]) -> list[int]:
    BATCHES.append(list(keys))
    return [key * key for key in keys]


async def _broken(keys: Sequence[int]) -> list[int]:
    raise LookupError(f"no rows for {list(keys)}")


async def test_load_many_answers_in_key_order_from_one_batch() -> None:
    BATCHES.clear()
    loader = Loader(load_fn=_squares)
    await loader.load(2)

    assert await loader.load_many([3, 2, 1, 3]) == [9, 4, 1, 9]
    assert BATCHES == [[2], [3, 1]]  # cached and repeated keys are not asked again


async def test_loads_of_one_tick_share_a_batch_and_a_cleared_key_is_asked_again() -> (
    None
):
    BATCHES.clear()
    loader = Loader(load_fn=_squares)
    one, many = loader.load(4), loader.load_many([5, 4, 6])
    assert (await one, await many) == (16, [25, 16, 36])

    loader.clear(5)
    assert await loader.load_many([6, 5]) == [36, 25]
    assert BATCHES == [[4, 5, 6], [5]]


async def test_a_failed_batch_raises_its_error_and_leaves_none_unretrieved() -> None:
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        assert await _error_of(Loader(load_fn=_broken).load_many([1, 2, 3])) == (
            "no rows for [1, 2, 3]"
        )
        # The loop's callbacks of the finished batch let go of its futures, and a
        # future's unretrieved error is reported when it is freed.
        await asyncio.sleep(0)
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert unretrieved == []


async def _error_of(loading: Awaitable[list[int]]) -> str:
    """The message only: the error's traceback would keep the futures alive."""
    try:
        await loading
    except LookupError as error:
        return str(error)
    raise AssertionError("the batch did not fail")
