"""Fewer garbage collections while the tap syncs: the objects of its set-up are frozen, the young generation is
collected every 50,000 allocations instead of 700, and a full collection waits for 50 of the middle one.

Each Stripe object decoded is a few dozen dicts and lists, none in a cycle, freed by reference counting once its
RECORD line is written. But the history read ahead holds hundreds of thousands of them at a time, and CPython's
collector walks the tracked objects of a generation each time it fills: with the default thresholds (700, 10,
10) about a fifth of the tap's CPU went to collections (``perf``: ``gc_collect_main``, ``visit_decref``,
``visit_reachable``) at 53,000 objects. With these thresholds the tap's CPU per 1,000 objects fell by about
15% (``python -m bench.tap_cpu``, docs/benchmarks.md). Cycles (exceptions, threads) are still collected, only
less often; peak memory did not change measurably.

The command line holds the same block around its set-up too (``TapStripeAEP.invoke``, ``cb_discover``): building
the catalog, 52 streams and their schemas makes tens of thousands of objects, and with the default thresholds
collections took about 40% of that CPU (docs/benchmarks.md, issue 10 session 9, branch s9-tF).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_GENERATION_THRESHOLD = 50_000
MIDDLE_GENERATIONS_BEFORE_FULL = 50


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Within this block, collect garbage less often (see the module docstring); restored on the way out."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, thresholds[1], MIDDLE_GENERATIONS_BEFORE_FULL)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
