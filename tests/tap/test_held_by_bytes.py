"""The partition being written: bounded by bytes, not by an object count, and its front range cut (issue 10, session 7).

The defect: ``read_history``'s older bound, ``max_held`` objects read and not handed back (10,000), still applied
under the read budget. At 100 requests/s the last partition left (payment intents, growing shape) held
12,000-25,000 objects, 13-26 MB of its 32 MB allowance, so the count held it to its 20 oldest ranges: 7-21
requests in flight of 40 for the last 8 s of the run. Against the Stripe emulator: a read being emitted, far under
its byte allowance and over the object count, keeps every request slot busy; every charge arrives once, oldest
first, and what it held is all given back.
"""

from __future__ import annotations

import statistics
import threading
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

SLOTS = 12
WINDOWS = 60  # one short page each: a read of many ranges, each done in one request


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    # 450 customers: about 1,350 charges
    with stripe_emulator(customers=450, rate_limit=0, latency_ms=50) as running:
        yield running


class _InFlightAtStart(_Recorder):
    """The recorder, also noting how many requests were in flight as each one started."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.at_start: list[int] = []
        self._starts = threading.Lock()

    def fetch(self, gte: int, lt: int, after: str | None) -> dict[str, Any]:
        with self._starts:
            self.at_start.append(self.in_flight + 1)
        return super().fetch(gte, lt, after)


def test_a_read_under_its_byte_allowance_is_not_held_by_an_object_count(emulator: EmulatorProcess) -> None:
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    budget = ReadBudget(64 * 2**20, 64 * 2**20)  # bytes never bind here
    share = budget.emitting(("charges", "acct"))
    recorder = _InFlightAtStart(emulator.url)
    got: list[dict[str, Any]] = []
    with ThreadPoolExecutor(SLOTS) as pool:
        for _, batch in read_history(
            start,
            end,
            recorder.fetch,
            pool,
            max_in_flight=SLOTS,
            window_seconds=max(60, (end - start) // WINDOWS),
            max_held=0,  # always passed: before the fix, the read was held to its oldest ranges throughout
            budget=share,
        ):
            got.extend(batch)
            share.give_back(len(batch))  # written

    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert share.objects == 0 and budget._used == 0, budget  # all it held was given back
    # Past the first requests (all sent at once) and before the last ones: the pool stays full. Held to its
    # ``max(2, SLOTS // 2)`` oldest ranges, the read sent each request with at most 6 in flight.
    steady = recorder.at_start[SLOTS:-SLOTS]
    assert len(steady) >= 20, recorder.requests
    assert statistics.median(steady) > SLOTS // 2 + 2, recorder.at_start


def test_the_front_range_of_the_partition_being_written_is_cut_while_under_its_allowance(
    emulator: EmulatorProcess,
) -> None:
    """The writer waits on the partition it writes: its front range read by cursor kept 18,000-25,000 objects
    read behind it from the writer for seconds at a time, though it held less than its allowance (so it was
    never "held to its front"; issue 10, session 7). Its front is cut whatever its budget, once objects are read
    behind it: here the newer of two windows, read beside it."""
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    window = (end - start) // 2 + 1  # two windows of about 650 charges
    budget = ReadBudget(64 * 2**20, 64 * 2**20)  # far from spent: the read is never held to its front
    share = budget.emitting(("charges", "acct"))
    recorder = _Recorder(emulator.url)
    got: list[dict[str, Any]] = []
    with ThreadPoolExecutor(8) as pool:  # never reports idle workers
        for _, batch in read_history(
            start, end, recorder.fetch, pool, max_in_flight=8, window_seconds=window, budget=share
        ):
            got.extend(batch)
            share.give_back(len(batch))

    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert share.objects == 0 and budget._used == 0, budget
    front = [r for r in recorder.requests if r[0] < start + window]  # the older window's requests
    assert sum(r[3] for r in front) >= 300, front  # several pages: read by cursor without the cut
    parts = {(r[0], r[1]) for r in front}
    assert len(parts) >= 3, front  # without the cut: one range, all but its first page by cursor
