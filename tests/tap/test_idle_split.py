"""A range left to read by cursor is cut into parallel parts while the request pool's workers sit idle.

At the end of a backfill the last ranges were single chains of dependent pages (each page's cursor starts the
next) while the other workers waited. Read against the Stripe emulator (50 ms a request), through the tap's own
request pool: the same objects in the same order, fewer pages in a chain, and no request spent on a range a page
already showed done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.backfill import created_of, read_history
from tap_stripe_aep.request_pool import RequestPool
from tests.tap.tap_runner import FULL_KEY, Control

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    # 300 customers: about 900 charges, a range the first page says holds under 20 pages (read on by cursor)
    with stripe_emulator(customers=300, rate_limit=0, latency_ms=50) as running:
        yield running


class _Recorder:
    """The emulator's list endpoint as ``read_history`` fetches it, remembering each request and its answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.requests: list[tuple[int, int, str | None, int, bool]] = []  # gte, lt, after, objects, has_more
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def fetch(self, gte: int, lt: int, after: str | None) -> dict[str, Any]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        query: dict[str, Any] = {"limit": 100, "created[gte]": gte, "created[lt]": lt}
        if after:
            query["starting_after"] = after
        try:
            response = self.session.get(
                f"{self.url}/v1/charges", params=query, headers={"Authorization": f"Bearer {FULL_KEY}"}, timeout=30
            )
            response.raise_for_status()
            page: dict[str, Any] = response.json()
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.requests.append((gte, lt, after, len(page["data"]), bool(page["has_more"])))
        return page


def test_idle_workers_read_what_is_left_of_a_range_in_parallel_parts(emulator: EmulatorProcess) -> None:
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    assert 500 <= len(expected) <= 1900  # the first page's density says "a few pages left": read on by cursor
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    recorder = _Recorder(emulator.url)
    pool = RequestPool(workers=8)
    started = time.monotonic()
    batches = list(read_history(start, end, recorder.fetch, pool.lane("charges"), max_in_flight=8))
    elapsed = time.monotonic() - started
    pool.shutdown()

    got = [obj for _, batch in batches for obj in batch]
    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert batches[-1][0] == end
    # Cut into parts read at once, not one chain: without the cut every page after the first is a cursor page,
    # one at a time (measured: 8 of 9 requests, one in flight, 0.5 s; with it 5 of 10, four in flight, 0.24 s).
    assert recorder.most_in_flight >= 3, recorder.requests
    assert sum(1 for r in recorder.requests if r[2] is not None) <= len(recorder.requests) // 2, recorder.requests
    # No request on a range a page showed done: after a short page (no ``has_more``) for [gte, lt), no later
    # request reads any second of it.
    for i, (gte, lt, _, _, has_more) in enumerate(recorder.requests):
        if has_more:
            continue
        for later in recorder.requests[i + 1 :]:
            assert later[1] <= gte or later[0] >= lt, f"{later} re-reads the finished range [{gte}, {lt})"
    # The cut costs a short page or two, not a request per part of a page: at least 80 objects a request here.
    assert len(got) / len(recorder.requests) >= 80, recorder.requests
    assert elapsed < 5
