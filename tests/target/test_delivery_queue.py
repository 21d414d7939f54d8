"""`DeliveryQueue`: how many deliveries run side by side, and the byte budget that bounds their memory."""

from __future__ import annotations

import functools
import threading

from target_aep.delivery_queue import DeliveryQueue


def _peak_in_flight(queue: DeliveryQueue, sizes: list[int]) -> tuple[int, int]:
    """Submit a delivery of each size; the most deliveries and bytes seen running at once. A delivery lasts until
    every one is submitted, or 0.2 s when a submission waits for room."""
    lock = threading.Lock()
    submitted = threading.Event()
    running = [0, 0]
    peak = [0, 0]

    def delivery(size: int) -> None:
        with lock:
            running[0] += 1
            running[1] += size
            peak[0] = max(peak[0], running[0])
            peak[1] = max(peak[1], running[1])
        submitted.wait(0.2)
        with lock:
            running[0] -= 1
            running[1] -= size

    for size in sizes:
        queue.submit(functools.partial(delivery, size), size)
    submitted.set()
    queue.wait_all()
    queue.shutdown()
    return peak[0], peak[1]


def test_small_batches_wait_side_by_side_within_the_byte_budget() -> None:
    # The end of a run: many small batches. All 12 at once (one worker each), never more than 16.
    assert _peak_in_flight(DeliveryQueue(16, max_bytes=1000), [50] * 12) == (12, 600)
    assert _peak_in_flight(DeliveryQueue(16, max_bytes=1000), [10] * 40)[0] == 16


def test_large_batches_are_held_to_the_byte_budget() -> None:
    count, held = _peak_in_flight(DeliveryQueue(16, max_bytes=1000), [400] * 6)
    assert (count, held) == (2, 800)
    # A batch larger than the whole budget still goes, alone.
    assert _peak_in_flight(DeliveryQueue(16, max_bytes=1000), [1500, 1500, 100]) == (1, 1500)


def test_without_a_byte_budget_only_the_count_bounds() -> None:
    assert _peak_in_flight(DeliveryQueue(4), [10**9] * 8) == (4, 4 * 10**9)
