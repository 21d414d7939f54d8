"""Reading a list's history fast: ``created`` windows fetched concurrently, handed back oldest first.

History ``[start, end)`` is cut into windows. A window is the unit of resumption: the caller emits a window's
objects only when the whole window is read, then records in state that history up to ``window.end`` is done.
Inside a window the reading adapts to density: when the first page of a range says ``has_more``, the rest of
the range is split into sub-ranges sized to a few pages each, read in parallel. All page fetches run on a
bounded thread pool; the calling thread only schedules, merges and yields, so nothing in the pool ever waits on
the pool.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

StripeObject = dict[str, Any]
# fetch_page(created_gte, created_lt, starting_after) -> a Stripe list page
PageFetcher = Callable[[int, int, str | None], dict[str, Any]]

PAGE_SIZE = 100
PAGES_PER_SEGMENT = 4  # a split aims at sub-ranges of about this many pages: few half-empty pages
MAX_SPLIT = 16
PROBE_SLICES = 8


@dataclass(frozen=True, order=True)
class Window:
    """Objects with ``start <= created < end`` (Unix seconds)."""

    start: int
    end: int


def plan_windows(start: int, end: int, window_seconds: int) -> list[Window]:
    """Cut ``[start, end)`` into consecutive windows of at most ``window_seconds``."""
    if end <= start:
        return []
    count = max(1, math.ceil((end - start) / window_seconds))
    step = math.ceil((end - start) / count)
    return [Window(s, min(s + step, end)) for s in range(start, end, step)]


def find_history_start(fetch: PageFetcher, executor: Executor, start: int, end: int) -> int | None:
    """The start of the oldest ``created`` slice holding an object in ``[start, end)``, or None if empty.

    Probes ``PROBE_SLICES`` slices at once (one object each) and narrows into the oldest non-empty one until
    a slice is at most 1/32 of the remaining history, so at most ~3% of the planned windows are empty.
    """
    lo, hi = start, end
    while True:
        width = max(1, math.ceil((hi - lo) / PROBE_SLICES))
        slices = [(s, min(s + width, hi)) for s in range(lo, hi, width)]
        futures = [executor.submit(fetch, a, b, None) for a, b in slices]
        first = next(((a, b) for (a, b), f in zip(slices, futures, strict=True) if f.result().get("data")), None)
        if first is None:
            return None
        lo, hi = first
        if (hi - lo) * 32 <= end - lo or hi - lo <= 3600:
            return lo


@dataclass(order=True)
class _Segment:
    window_index: int
    gte: int = field(compare=False)
    lt: int = field(compare=False)
    starting_after: str | None = field(default=None, compare=False)


@dataclass
class _WindowProgress:
    objects: dict[str, StripeObject] = field(default_factory=dict)
    pending: int = 0


def read_windows(
    windows: list[Window],
    fetch: PageFetcher,
    executor: Executor,
    *,
    max_in_flight: int,
    max_windows_ahead: int = 8,
) -> Iterator[tuple[Window, list[StripeObject]]]:
    """Yield ``(window, objects sorted by (created, id))`` for each window, strictly in window order.

    Pages are fetched ``max_in_flight`` at a time, oldest window first; at most ``max_windows_ahead`` windows
    are held in memory at once.
    """
    progress = [_WindowProgress() for _ in windows]
    queue: list[_Segment] = []
    in_flight: dict[Future[dict[str, Any]], _Segment] = {}
    next_window = 0  # next window not yet opened
    emit_index = 0  # next window to hand back

    def open_windows() -> None:
        nonlocal next_window
        while next_window < len(windows) and next_window < emit_index + max_windows_ahead:
            window = windows[next_window]
            heapq.heappush(queue, _Segment(next_window, window.start, window.end))
            progress[next_window].pending += 1
            next_window += 1

    try:
        open_windows()
        while emit_index < len(windows):
            while queue and len(in_flight) < max_in_flight:
                segment = heapq.heappop(queue)
                future = executor.submit(fetch, segment.gte, segment.lt, segment.starting_after)
                in_flight[future] = segment
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    segment = in_flight.pop(future)
                    _absorb_page(segment, future.result(), progress, queue)
            while emit_index < len(windows) and progress[emit_index].pending == 0 and emit_index < next_window:
                objects = sorted(progress[emit_index].objects.values(), key=_created_then_id)
                progress[emit_index] = _WindowProgress()
                yield windows[emit_index], objects
                emit_index += 1
                open_windows()
    finally:
        for future in in_flight:
            future.cancel()


def _absorb_page(
    segment: _Segment, page: dict[str, Any], progress: list[_WindowProgress], queue: list[_Segment]
) -> None:
    window = progress[segment.window_index]
    data = page.get("data") or []
    for obj in data:
        window.objects[obj["id"]] = obj
    window.pending -= 1
    if not page.get("has_more") or not data:
        return
    oldest = created_of(data[-1])
    if segment.starting_after is None:
        # First page of a range: estimate how many objects remain from the density seen so far.
        seen_span = max(1, segment.lt - oldest)
        remaining_span = oldest - segment.gte
        estimate = len(data) * remaining_span / seen_span
        parts = min(MAX_SPLIT, remaining_span, int(estimate // (PAGE_SIZE * PAGES_PER_SEGMENT)))
        if parts >= 2:
            # The sub-ranges overlap the page only at second ``oldest``; objects are merged by id.
            step = math.ceil((oldest + 1 - segment.gte) / parts)
            for gte in range(segment.gte, oldest + 1, step):
                heapq.heappush(queue, _Segment(segment.window_index, gte, min(gte + step, oldest + 1)))
                window.pending += 1
            return
    heapq.heappush(queue, _Segment(segment.window_index, segment.gte, segment.lt, data[-1]["id"]))
    window.pending += 1


def created_of(obj: StripeObject) -> int:
    """The time a ``created`` filter applies to: ``created``, or ``date`` for invoice items."""
    value = obj.get("created")
    return int(value if value is not None else obj["date"])


def _created_then_id(obj: StripeObject) -> tuple[int, str]:
    return created_of(obj), str(obj["id"])
