"""Deliveries in the background, so reading and mapping go on while AEP processes a batch.

Why this keeps the state promise: the target writes a STATE line only through ``TargetAEP._write_state_message``,
which first waits here for *every* delivery submitted so far (and re-raises the first failure). So a STATE line
still comes only after every record before it was accepted, but a full sink no longer stops the reader for the
whole upload-and-poll cycle.

Order and memory: one delivery at a time per stream (a stream's next batch waits for its previous one, so a
later version of an object never lands before an earlier one), and at most ``max_workers`` in flight overall,
each holding at most ``batch_max_bytes``.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor

DEFAULT_WORKERS = 4


class DeliveryQueue:
    """Runs delivery callables on a small thread pool and tracks what is still in flight."""

    def __init__(self, max_workers: int = DEFAULT_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="aep-delivery")
        self._slots = threading.BoundedSemaphore(max_workers)
        self._lock = threading.Lock()
        self._in_flight: list[Future[None]] = []

    def submit(self, deliver: t.Callable[[], None]) -> Future[None]:
        """Start ``deliver`` once a worker is free; raises at once if an earlier delivery failed."""
        self.raise_first_failure()
        self._slots.acquire()  # backpressure: bounded memory and bounded load on the Platform
        try:
            future = self._pool.submit(deliver)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        with self._lock:
            self._in_flight.append(future)
        return future

    def raise_first_failure(self) -> None:
        with self._lock:
            done = [f for f in self._in_flight if f.done()]
            self._in_flight = [f for f in self._in_flight if not f.done()]
        for future in done:
            future.result()  # re-raises the delivery's error

    def wait_all(self) -> None:
        """Block until every submitted delivery finished; re-raise the first failure."""
        with self._lock:
            pending = list(self._in_flight)
        first_error: BaseException | None = None
        for future in pending:
            error = future.exception()
            if error is not None and first_error is None:
                first_error = error
        with self._lock:
            self._in_flight = [f for f in self._in_flight if f not in pending]
        if first_error is not None:
            raise first_error

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
