"""Reading ahead: the request budget goes to the partition the SDK syncs soonest, and a read that ends is replaced.

Both are about idle request budget (issue 10): first-come lanes let a partition read far ahead delay the next
one the SDK waits on, and a read ahead of a small list ends after one request, which left its slot unused
until the SDK thread next came by (seconds, during a large stream).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from tap_stripe_aep.prefetch import Prefetcher
from tap_stripe_aep.request_pool import RequestPool

WAIT = 5.0


def test_a_free_worker_serves_the_lane_opened_first_not_the_oldest_task() -> None:
    pool = RequestPool(workers=1)
    gate = threading.Event()
    ran: list[str] = []
    soonest = pool.lane("partition synced next")
    later = pool.lane("partition synced after it")
    blocker = pool.submit(gate.wait)  # keeps the one worker busy while both lanes queue
    done_later = later.submit(ran.append, "later")  # queued first
    done_soonest = soonest.submit(ran.append, "soonest")
    gate.set()
    for future in (blocker, done_later, done_soonest):
        future.result(timeout=WAIT)
    assert ran == ["soonest", "later"]
    pool.shutdown()


def test_a_read_ahead_that_ends_is_replaced_by_the_next_planned_one_without_the_sdk_thread() -> None:
    started: list[str] = []
    finish = {name: threading.Event() for name in "abc"}
    started_event = {name: threading.Event() for name in "abc"}

    def reader(name: str) -> Any:
        def produce() -> Iterator[tuple[int, list[dict]]]:
            started.append(name)
            started_event[name].set()
            finish[name].wait(WAIT)
            yield 1, [{"id": name}]

        return produce

    prefetcher = Prefetcher()
    prefetcher.read_ahead([(name, reader(name)) for name in "abc"], running=1)
    assert started_event["a"].wait(WAIT)
    assert started == ["a"]  # one kept reading
    finish["a"].set()
    assert started_event["b"].wait(WAIT), "the next planned read did not start when the first one ended"
    assert started == ["a", "b"]
    batches = prefetcher.take("a")
    assert batches is not None and list(batches) == [(1, [{"id": "a"}])]
    finish["b"].set()
    finish["c"].set()
