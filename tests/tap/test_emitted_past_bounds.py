"""The partition being written reads past its bounds while the whole run holds under half the read budget.

The defect (issue 10, session 9, s9-tD's trace): over its memory bound (``max_held``) the partition being written
may request only for its ``front_chains`` oldest ranges. At 100 requests/s the last partition (payment intents,
read alone once the reads ahead had ended) was held to 9 of its 38 open ranges while the run held 10-18 MB of a
40 MB budget, and the pool sent 41-57 requests a second for 6 s. Its bounds stand for memory on top of what the
reads ahead hold; with the run under half the budget they bound nothing that matters (the whole budget let it
read on mid-run, and the reads ahead refilled the budget beside it: peak RSS +30-50 MB). Against the Stripe
emulator, the oldest window's first page slow: with the run under half its budget the windows behind it are read
meanwhile; over it (a read ahead holding more than half) the rule is as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.backfill import created_of, read_history
from tap_stripe_aep.read_budget import ReadBudget
from tests.tap.tap_runner import Control
from tests.tap.test_idle_split import _Recorder

pytestmark = pytest.mark.timeout(60)

WINDOWS = 12
IN_FLIGHT = 8  # front_chains = 4: over its bound a read requests only for its 4 oldest ranges
MAX_HELD = 300  # about three windows


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


def _read_emitted(emulator: EmulatorProcess, budget: ReadBudget) -> tuple[list[int], _SlowFirst, set[int]]:
    """Read every charge as the partition being written, the oldest window's first page slow; return the window
    starts, the recorder and the windows read to their last page while that page was out."""
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    window = (end - start) // WINDOWS + 1
    starts = [start + i * window for i in range(WINDOWS)]
    share = budget.emitting(("charges", "acct"))
    recorder = _SlowFirst(emulator.url, start, delay=1.5)
    got: list[dict[str, Any]] = []
    with ThreadPoolExecutor(IN_FLIGHT) as pool:  # reports no idle workers: no idle cuts
        for _, batch in read_history(
            start,
            end,
            recorder.fetch,
            pool,
            max_in_flight=IN_FLIGHT,
            window_seconds=window,
            max_held=MAX_HELD,
            budget=share,
        ):
            got.extend(batch)
            share.give_back(len(batch))
    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert share.objects == 0
    assert recorder.slow_answered is not None
    read_meanwhile = {gte for gte, more, at in recorder.ended if not more and at < recorder.slow_answered}
    return starts, recorder, read_meanwhile


def test_under_half_the_budget_the_partition_being_written_reads_past_its_bound(emulator: EmulatorProcess) -> None:
    starts, _, read_meanwhile = _read_emitted(emulator, ReadBudget(64 * 2**20, 64 * 2**20))
    # Without the fix: windows 2-4 only (the 4 oldest ranges), the read being over its 300 objects.
    assert len(read_meanwhile & set(starts[1:])) >= 8, sorted(read_meanwhile)


def test_over_half_the_budget_it_reads_only_its_front_as_before(emulator: EmulatorProcess) -> None:
    budget = ReadBudget(8_000_000, 64 * 2**20)
    budget.reader(("customers", "acct")).take(2100)  # a read ahead holds 4,200,000 bytes: over half the budget
    starts, recorder, _ = _read_emitted(emulator, budget)
    asked_meanwhile = {gte for gte, _, at in recorder.ended if at < recorder.slow_answered}
    # The first requests go to the 8 oldest windows (nothing held yet); once over its bound, none past them.
    assert not asked_meanwhile & set(starts[IN_FLIGHT:]), sorted(asked_meanwhile)


def test_past_its_allowance_the_partition_being_written_counts_with_the_reads_ahead() -> None:
    """Reading on under the budget, the partition being written may hold more than its allowance; that excess
    counts against the reads ahead, so the two together stay near the budget plus the allowance."""
    budget = ReadBudget(1_000_000, 400_000)
    written = budget.emitting(("charges", "acct"))
    ahead = budget.reader(("customers", "acct"))
    written.take(150)  # 300,000 bytes: within its allowance, not counted against the reads ahead
    ahead.take(150)  # the reads ahead hold 300,000
    assert ahead.has_room_for_a_page()  # 300,000 + a page of 200,000 of 1,000,000
    written.take(350)  # 1,000,000 bytes: 600,000 past its allowance
    # 600,000 + 300,000 + a page: over. Without the cap the reads ahead saw 300,000 + a page.
    assert not ahead.has_room_for_a_page()
    written.take(-300)  # back within its allowance
    assert ahead.has_room_for_a_page()
