"""Garbage collection tuned for a server whose heap is mostly built at start-up."""

from __future__ import annotations

import gc

# CPython's default (700) runs a young collection every few hundred allocations, so
# a response of a few thousand objects pays for several; ten times that leaves
# fewer, larger passes (measured in bench/README.md).
YOUNG_GENERATION_THRESHOLD = 7_000


def settle_heap() -> None:
    """Move what start-up built (modules, schema, mappers) out of the collector's
    sight, so that the rare full collections walk only what requests allocate."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
