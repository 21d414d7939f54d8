"""The range blocking the next batch of the partition being written is cut, whatever its budget (issue 10, session 7).

The defect: the front range of a read was cut into parallel parts only while the read was held to its front by
its budget. The partition the writer waits on has its own allowance (32 MB) and was rarely held: at 100
requests/s its front range, read by cursor (0.35-0.45 s a page), kept 18,000-25,000 objects read behind it from
the waiting writer for seconds at a time (charges, payment intents). Against the Stripe emulator: the front is cut
once objects are read behind it, every charge arrives once, oldest first, and all it held is given back.
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    # 450 customers: about 1,350 charges
    with stripe_emulator(customers=450, rate_limit=0, latency_ms=50) as running:
        yield running


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
