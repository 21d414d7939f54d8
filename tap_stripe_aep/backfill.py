"""Reading a list's history fast: ``created`` ranges fetched concurrently, handed back oldest first.

:func:`read_history` reads a list's history by what each page reveals, not by a density guessed up front:

- a page without ``has_more`` says "this range is done": no further request is spent on it;
- a full page with ``has_more`` says "split here": every object newer than the page's oldest is now known (the
  list is newest first), so that part of the range is done, and only the rest is still to read. The rest is
  read on by cursor when the page's density says it holds a few pages, else cut into sub-ranges sized from
  that density, read in parallel, each of which again splits by what its own pages show. A few pages read on
  by cursor are a chain of dependent requests: when the range blocks handing anything back (the read's front)
  or workers sit idle, they are cut into parts of about two pages instead.

A growing account (most objects in recent months, a bursty day) is read with the same few requests per
object as an even one: a sparse old range costs one short page, a dense day is split where it is dense. A
range never needs a second look, so no request goes to a range already known empty.

:func:`read_windows` is the older fixed-window reader, still used for the event log (``change_feed.py``).
History ``[start, end)`` is cut into windows. A window is the unit of resumption: the caller emits a window's
objects only when the whole window is read, then records in state that history up to ``window.end`` is done.
Inside a window the reading adapts to density: when the first page of a range says ``has_more``, the rest of
the range is split into sub-ranges sized to a few pages each, read in parallel. All page fetches run on a
bounded thread pool; the calling thread only schedules, merges and yields, so nothing in the pool ever waits on
the pool.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any

from tap_stripe_aep.read_budget import PAGE_OBJECTS, ReaderShare

StripeObject = dict[str, Any]
# fetch_page(created_gte, created_lt, starting_after) -> a Stripe list page
PageFetcher = Callable[[int, int, str | None], dict[str, Any]]

PAGE_SIZE = 100
PAGES_PER_SEGMENT = 4  # a split aims at sub-ranges of about this many pages: few half-empty pages
MAX_SPLIT = 16
PAGES_PER_PART = 10  # read_history: split only into sub-ranges of about this many pages (each ends in one short page)
MAX_PARTS = 32  # read_history: sub-ranges a page splits the rest of its range into, at most
FAR_EXTRAPOLATION = 8  # read_history: a page that saw under 1/8 of what is left of its range splits it into ...
FAR_SPLIT_PARTS = 4  # ... at most this many parts (each splits again by its own pages)
IDLE_PAGES_PER_PART = 2  # read_history: a chain cut (idle workers, or the front range) makes parts of ~2 pages
MIN_IDLE_WORKERS = 3  # ... when at least this many of the pool's workers have nothing to do
MAX_HELD_OBJECTS = 10000  # read_history: objects held (read, not yet handed back) before only the oldest is read
# The history reads running now, each as a function describing what it waits on (``bench/tap_trace.py``'s ticks).
LIVE_READS: dict[int, Callable[[], str]] = {}


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


_origins = itertools.count()


@dataclass(eq=False)
class _Range:
    """``gte <= created < lt``; read newest first, page after page, until done or split."""

    gte: int
    lt: int
    objects: dict[str, StripeObject] = field(default_factory=dict)
    after: str | None = None  # cursor of the next page
    read_down_to: int | None = None  # the oldest ``created`` read so far (the previous page's last)
    done: bool = False
    # Ranges cut from one range for idle workers share its origin: a read held to its front ranges reads all of
    # them (``_in_front``); any other range is an origin of its own.
    origin: int = field(default_factory=lambda: next(_origins))


def read_history(
    start: int,
    end: int,
    fetch: PageFetcher,
    executor: Executor,
    *,
    max_in_flight: int,
    window_seconds: int | None = None,
    max_held: int = MAX_HELD_OBJECTS,
    budget: ReaderShare | None = None,
) -> Iterator[tuple[int, list[StripeObject]]]:
    """Yield ``(done through, objects sorted by (created, id))`` for consecutive ranges of ``[start, end)``.

    Every object of ``[start, end)`` is handed back exactly once, oldest ranges first; after a batch, history
    up to ``done through`` is complete. ``window_seconds`` (the ``backfill_window_days`` setting) cuts the
    history into windows of at most that width first. At most ``max_in_flight`` pages are requested at once;
    once ``max_held`` objects are held, only the oldest unfinished ranges are read, so memory stays bounded.

    ``budget`` is this reader's share of what every reader of the run holds until it is emitted
    (``read_budget.py``): a page requested reserves a page, an object read counts until the consumer gives it
    back after writing it. A read ahead (``budget.emitted`` false) requests nothing while the reads ahead together
    hold the budget; the partition being emitted reads only its front ranges while over its own allowance.
    """
    if end <= start:
        return
    bounds = plan_windows(start, end, window_seconds) if window_seconds else [Window(start, end)]
    # Consecutive, oldest first; the front is handed back.
    ranges = [_Range(w.start, w.end) for w in bounds]
    queue: list[tuple[int, int, _Range]] = [(r.gte, i, r) for i, r in enumerate(ranges)]
    heapq.heapify(queue)
    order = len(ranges)
    in_flight: dict[Future[dict[str, Any]], _Range] = {}
    held = 0
    front_chains = max(2, max_in_flight // 2)

    def enqueue(part: _Range) -> None:
        nonlocal order
        order += 1
        heapq.heappush(queue, (part.gte, order, part))

    def front_only() -> int | None:
        """How many of the oldest unfinished ranges may be read now (None: any; 0: none)."""
        if budget is not None:
            if not budget.emitted:
                if not budget.has_room_for_a_page():
                    # Read ahead over the run's budget: wait until records written free room, except for the one
                    # range that blocks its next batch, for a read with nothing handed back (``read_budget.py``)
                    # that holds objects read behind that range: finishing it turns what it holds into a batch
                    # the writer takes between two of another partition's (``interleave.py``).
                    return 1 if held > 0 and budget.may_finish_its_front() else 0
            elif budget.writer_is_busy():
                # Emitted, and its allowance waits to be written (at 100 requests/s writing is the slower side):
                # only the two oldest ranges, which block its next batch, are read (it never waits on itself).
                return 2
            elif budget.reading_is_over(held):
                return front_chains
        if held >= max_held:
            # Over a memory bound, only the ranges that block handing back next may be read: the oldest
            # ``front_chains`` unfinished ones. One alone is a single chain of dependent pages (5 requests/s at
            # 200 ms), which starved the partition being emitted; a few keep its share of the budget busy.
            return front_chains
        return None

    def may_request(part: _Range) -> bool:
        front = front_only()
        return front is None or _in_front(part, ranges, front)

    def spare_slots(part: _Range) -> int:
        """Idle workers this range may be cut for: none while this reader has requests it could make, or while
        it is held to its front ranges and ``part`` is not (part of) the oldest one, which blocks its next batch."""
        if queue and may_request(queue[0][2]):
            return 0
        if front_only() is not None and not _in_front(part, ranges, 1):
            return 0
        return _spare_slots(executor, in_flight, max_in_flight)

    def describe() -> str:
        """What this read waits on, for ``bench/tap_trace.py``'s ticks (read from another thread: a snapshot)."""
        front = front_only()
        open_ranges = [r for r in list(ranges) if not r.done]
        asked = {id(r) for r in list(in_flight.values())}
        allowed = [r for r in open_ranges if front is None or _in_front(r, ranges, front)]
        return (
            f"{getattr(budget, '_key', '?')}: {len(ranges)} ranges ({len(open_ranges)} open, "
            f"{len(asked)} with a request out), front {'any' if front is None else front}: "
            f"{len(allowed)} open ranges may request, {sum(id(r) not in asked for r in allowed)} of them idle; "
            f"held {held} objects{', emitted' if budget is not None and budget.emitted else ''}"
        )

    # Each request's future reports its own completion here: ``concurrent.futures.wait`` would instead add and
    # remove a waiter on every request in flight for each page (a lock and a Condition each: 5-11% of the tap's
    # samples at 100 requests/s, issue 10 session 8).
    completed: SimpleQueue[Future[dict[str, Any]]] = SimpleQueue()
    LIVE_READS[id(describe)] = describe
    try:
        while ranges:
            while queue and len(in_flight) < max_in_flight and may_request(queue[0][2]):
                part = heapq.heappop(queue)[2]
                future = executor.submit(fetch, part.gte, part.lt, part.after)
                future.add_done_callback(completed.put)
                in_flight[future] = part
                if budget is not None:
                    budget.take(PAGE_OBJECTS)
            if not in_flight and queue and budget is not None:
                budget.wait_for_writes(0.05)  # held back by the budget: look again once records are written
            if in_flight:
                for future in _completed_now(completed):
                    part = in_flight.pop(future)
                    before, page = len(part.objects), future.result()
                    front = _in_front(part, ranges, 1)
                    cut_front = front and (front_only() is not None or _writer_waits_behind(part, ranges, budget))
                    new_parts = _absorb(part, page, spare_slots(part), front=cut_front)
                    held += len(part.objects) - before
                    if budget is not None:
                        budget.weigh(page.get("data") or [])
                        budget.take(len(part.objects) - before - PAGE_OBJECTS)
                    if part.done:
                        index = ranges.index(part)
                        ranges[index:index] = new_parts  # older than what is left of ``part``
                    else:
                        enqueue(part)
                    for new in new_parts:
                        enqueue(new)
            # Hand back the finished ranges at the front as one batch: a reader read ahead buffers a few
            # batches only (``prefetch.py``), so many small ones would stall it while its budget sits idle.
            if ranges and ranges[0].done:
                batch: list[StripeObject] = []
                done_through = ranges[0].lt
                while ranges and ranges[0].done:
                    finished = ranges.pop(0)
                    batch.extend(sorted(finished.objects.values(), key=_created_then_id))
                    done_through = finished.lt
                held -= len(batch)
                if budget is not None:
                    budget.hand_back(len(batch))
                yield done_through, batch
                del batch  # the consumer's now: not held here through the next batch's reads
    finally:
        LIVE_READS.pop(id(describe), None)
        for future in in_flight:
            future.cancel()


def _completed_now(completed: SimpleQueue[Future[dict[str, Any]]]) -> list[Future[dict[str, Any]]]:
    """The requests that completed: at least one (waiting for it), and every other one done by then."""
    done = [completed.get()]
    while not completed.empty():
        done.append(completed.get_nowait())
    return done


def _spare_slots(executor: Executor, in_flight: dict[Future[dict[str, Any]], _Range], max_in_flight: int) -> int:
    """Requests that could go out now and would not: the pool's idle workers (``read_history`` says when it asks).

    Near the end of a run the last partitions' ranges are read as single chains of dependent pages (each page's
    cursor is the next one's start) while the rest of the pool waits: measured, the last 5-8 s of a 25 requests/s
    backfill sent a few requests a second. A range that knows how much is left can be cut so the idle workers
    read it in parallel. The same holds for the range that blocks a read's next batch while the read is held to
    its front by the budget: at 100 requests/s a front range of ten pages read by cursor kept everything read
    behind it waiting for 2 s and more, with workers idle.
    """
    idle = getattr(executor, "idle_workers", None)
    if idle is None:
        return 0
    workers = idle()
    if workers < MIN_IDLE_WORKERS:
        return 0
    return max(0, min(workers, max_in_flight - len(in_flight) - 1))


def _writer_waits_behind(front: _Range, ranges: list[_Range], budget: ReaderShare | None) -> bool:
    """Whether the writer waits on this read (it writes its partition) and objects are read behind ``front``.

    Then ``front`` is cut like the front of a read held by its budget: at 100 requests/s the front range of the
    partition being written, read by cursor (0.35-0.45 s a page), kept 18,000-25,000 objects read behind it
    (20-30 MB, under the partition's allowance, so it was never held to its front) from the writer for seconds
    at a time (charges, payment intents; issue 10, session 7). With nothing read behind it, a chain holds up
    nothing else, and a cut would cost a request a part for nothing.
    """
    if budget is None or not budget.emitted:
        return False
    return any(r.objects for r in ranges if r.origin != front.origin)


def _in_front(part: _Range, ranges: list[_Range], front: int) -> bool:
    """Whether ``part`` was cut from one of the ``front`` oldest ranges of the plan still being read."""
    origins: set[int] = set()
    for r in ranges:
        if r.origin not in origins:
            if len(origins) == front:
                return False
            origins.add(r.origin)
        if r is part:
            return True
    return False


def _absorb(part: _Range, page: dict[str, Any], spare: int = 0, *, front: bool = False) -> list[_Range]:
    """Take one page into ``part``; return the older sub-ranges it was split into (none if it reads on).

    ``spare``: requests that could go out now and would not (idle workers); a range that would be read on by
    cursor is cut into up to ``spare + 1`` parts of about ``IDLE_PAGES_PER_PART`` pages instead.

    ``front``: ``part`` is (cut from) the oldest range still being read, the one that blocks handing anything
    back, and the read is held to its front ranges (its budget or memory bound is spent) or is the one the writer
    waits on, with objects read behind ``part`` (``_writer_waits_behind``). Read on by cursor it is
    a chain of dependent pages, one request at a time (about 0.45 s each at 100 requests/s), while everything
    read behind it waits, holds the read budget and leaves the writer idle (issue 10, session 6: events, invoices
    and invoice lines each held 10-26 MB with nothing handed back while their front range was read page by
    page). A read not held to its front reads other ranges beside the chain: there the cut would only cost
    requests (3% more at 25 requests/s, where requests are the limit). So a held read's front is cut into parts
    of about ``IDLE_PAGES_PER_PART`` pages whatever the pool's idle workers: each part ends in one short page, a
    request more per part, paid only on the range everything else waits on.
    """
    data = page.get("data") or []
    for obj in data:
        part.objects[obj["id"]] = obj
    if not page.get("has_more") or not data:
        part.done = True
        return []
    oldest = created_of(data[-1])
    seen_from = part.read_down_to if part.read_down_to is not None else part.lt
    part.read_down_to = oldest
    remaining = oldest + 1 - part.gte  # seconds still unread (second ``oldest`` may hold more objects)
    seen = max(1, seen_from - oldest)
    estimate = len(data) * remaining / seen
    parts = min(MAX_PARTS, remaining, int(estimate // (PAGE_SIZE * PAGES_PER_PART)))
    # A chain cut: the range would be read on by cursor, a chain of a few dependent pages. Cut it when it is the
    # front (everything behind it waits) or when workers sit idle (a chain would leave them idle); each part then
    # ends in a short page, a request more per part. Its parts share its origin: all of them are as much "front".
    chain_cut = parts < 2 and (front or spare > 0)
    if chain_cut:
        most = MAX_PARTS if front else spare + 1
        parts = min(most, remaining, int(estimate // (PAGE_SIZE * IDLE_PAGES_PER_PART)))
    if seen * FAR_EXTRAPOLATION < remaining:
        # The page saw a sliver of the range: its density says little about the older part (on a growing
        # account the newest page is the densest, so parts sized from it came back almost empty, one short
        # page each). Cut a few wide parts instead; each splits again by what its own first page shows.
        parts = min(parts, FAR_SPLIT_PARTS)
    if parts < 2 or oldest + 1 >= part.lt:
        part.after = str(data[-1]["id"])  # a few pages left (or one crowded second): read on by cursor
        return []
    # Everything newer than ``oldest`` is known: ``part`` keeps that and is done. Second ``oldest`` and older
    # go to the sub-ranges (the objects of second ``oldest`` already read are read again there, so no object
    # is handed back twice).
    part.objects = {k: o for k, o in part.objects.items() if created_of(o) > oldest}
    part.gte, part.after, part.done = oldest + 1, None, True
    step = math.ceil(remaining / parts)
    cut = range(part.gte - remaining, oldest + 1, step)
    if chain_cut:
        return [_Range(gte, min(gte + step, oldest + 1), origin=part.origin) for gte in cut]
    return [_Range(gte, min(gte + step, oldest + 1)) for gte in cut]


def created_of(obj: StripeObject) -> int:
    """The time a ``created`` filter applies to: ``created``, or ``date`` for invoice items."""
    value = obj.get("created")
    return int(value if value is not None else obj["date"])


def _created_then_id(obj: StripeObject) -> tuple[int, str]:
    return created_of(obj), str(obj["id"])
