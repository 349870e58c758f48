"""Garbage collection tuned for a server whose heap is mostly built at start-up."""

from __future__ import annotations

import gc

# CPython's default (700) runs a young collection every few hundred allocations, so
# a response of a few thousand objects pays for several. 2,000 is the compromise
# measured in bench/README.md when a request's rows still waited in reference
# cycles for the collector (Q2 at 64 connections, one worker: 700 gives 29 req/s
# and 105 MiB, 2,000 39 req/s and 123 MiB, 7,000 41 req/s and 169 MiB); now they
# are freed when the request ends (tests/integration/test_request_garbage.py).
YOUNG_GENERATION_THRESHOLD = 2_000


def settle_heap() -> None:
    """Move what start-up built (modules, schema, mappers) out of the collector's
    sight, so that the rare full collections walk only what requests allocate."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
