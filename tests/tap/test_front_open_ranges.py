"""A read held to its oldest ranges reads its oldest *unfinished* ones: ranges read whole do not take their places.

The defect (issue 10, session 7, s7-tA3's trace): over its memory bound, a read may request only for its
``front_chains`` oldest ranges, and ranges read whole but waiting on an older unfinished one counted among them.
At 100 requests/s the partition being written (payment intents, the last 10 s of a run) had 31 ranges open and
2 requests out: 18 of its 20 front places were done ranges. Against the Stripe emulator, with the oldest window's
first page slow and the pool's workers idle: the windows behind it are read meanwhile, as far as the bound's reach
and no further, and every charge still arrives once, oldest first. (With no idle workers the rule is as before:
mid-run the other reads use the slots, and reading further would only hold more.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.backfill import FRONT_REACH, created_of, read_history
from tap_stripe_aep.request_pool import RequestPool
from tests.tap.tap_runner import Control
from tests.tap.test_idle_split import _Recorder

pytestmark = pytest.mark.timeout(60)

WINDOWS = 12
IN_FLIGHT = 8  # front_chains = 4: a read over its bound reads its 4 oldest unfinished ranges, within 8 ranges


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    # 450 customers: about 1,350 charges, 12 windows of one full page and a short one each
    with stripe_emulator(customers=450, rate_limit=0, latency_ms=20) as running:
        yield running


class _SlowFirst(_Recorder):
    """The oldest window's first page answers after ``delay`` s; when each request ended is remembered."""

    def __init__(self, url: str, oldest: int, delay: float) -> None:
        super().__init__(url)
        self.oldest, self.delay = oldest, delay
        self.slow_answered: float | None = None
        self.ended: list[tuple[int, bool, float]] = []  # gte, has_more, when
        self._ended_lock = threading.Lock()

    def fetch(self, gte: int, lt: int, after: str | None) -> dict[str, Any]:
        slow = gte == self.oldest and after is None and self.slow_answered is None
        if slow:
            time.sleep(self.delay)
        page = super().fetch(gte, lt, after)
        with self._ended_lock:
            now = time.monotonic()
            if slow:
                self.slow_answered = now
            self.ended.append((gte, bool(page["has_more"]), now))
        return page


def test_ranges_read_whole_behind_the_front_do_not_take_its_places(emulator: EmulatorProcess) -> None:
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    window = (end - start) // WINDOWS + 1
    starts = [start + i * window for i in range(WINDOWS)]
    recorder = _SlowFirst(emulator.url, start, delay=1.5)
    got: list[dict[str, Any]] = []
    pool = RequestPool(workers=IN_FLIGHT)  # the tap's pool: it reports its idle workers
    for _, batch in read_history(
        start, end, recorder.fetch, pool.lane("charges"), max_in_flight=IN_FLIGHT, window_seconds=window, max_held=300
    ):
        got.extend(batch)
    pool.shutdown()

    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert recorder.slow_answered is not None
    # Windows read to their last page while the oldest window's first page was out (over the bound of 300
    # objects after three pages): the front's places went to unfinished windows. Without the fix, windows 2-4
    # only (the 4 oldest ranges, done or not).
    read_meanwhile = {gte for gte, more, at in recorder.ended if not more and at < recorder.slow_answered}
    assert len(read_meanwhile & set(starts[1 : FRONT_REACH * 4])) >= 6, sorted(read_meanwhile)
    # ... and within the bound's reach: no window past the 8 oldest was requested meanwhile.
    asked_meanwhile = {gte for gte, _, at in recorder.ended if at < recorder.slow_answered}
    assert not asked_meanwhile & set(starts[FRONT_REACH * 4 :]), sorted(asked_meanwhile)


def test_idle_workers_cut_any_range_the_front_rule_lets_request(emulator: EmulatorProcess) -> None:
    """Held to its front (here always: ``max_held`` 0), a read cut only its oldest range for idle workers; the
    others its front rule let request were read by cursor, one page at a time (the last seconds of a run at 100
    requests/s: 9-10 requests out of 40, s7-tA3's trace). The newer of two windows of about 675 charges, read
    through the tap's request pool (which reports its idle workers), is cut into parts too."""
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    window = (end - start) // 2 + 1
    # The older window's first page slow: the newer one's first page comes back while the pool's workers are idle
    # (else the older one, cut as the front, may fill the pool first, and the newer one reads on by cursor).
    recorder = _SlowFirst(emulator.url, start, delay=0.5)
    pool = RequestPool(workers=IN_FLIGHT)
    batches = list(
        read_history(
            start, end, recorder.fetch, pool.lane("charges"), max_in_flight=IN_FLIGHT, window_seconds=window, max_held=0
        )
    )
    pool.shutdown()

    assert [o["id"] for _, batch in batches for o in batch] == [o["id"] for o in expected]
    newer = [r for r in recorder.requests if r[0] >= start + window]
    assert sum(r[3] for r in newer) >= 500, newer  # several pages: read by cursor without the cut
    assert len({(r[0], r[1]) for r in newer}) >= 3, newer  # without the cut: one range, read by cursor


def test_without_idle_slots_the_front_is_the_oldest_ranges_done_or_not(emulator: EmulatorProcess) -> None:
    """Mid-run the other reads use the request slots: reading past the done ranges there only held more (peak
    RSS +40-80 MB at 100 requests/s), so a pool that reports no idle workers keeps the old front: windows 2-4
    (or 5, by timing)."""
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    window = (end - start) // WINDOWS + 1
    recorder = _SlowFirst(emulator.url, start, delay=1.5)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:  # reports no idle workers
        got = [
            o
            for _, batch in read_history(
                start, end, recorder.fetch, pool, max_in_flight=IN_FLIGHT, window_seconds=window, max_held=300
            )
            for o in batch
        ]

    assert [o["id"] for o in got] == [o["id"] for o in expected]
    assert recorder.slow_answered is not None
    read_meanwhile = {gte for gte, more, at in recorder.ended if not more and at < recorder.slow_answered}
    assert len(read_meanwhile) <= 4, sorted(read_meanwhile)  # the 4 oldest; 7 with idle workers
