"""Reading the next streams' history while the current one is being emitted.

The SDK thread syncs one partition after another. Each partition's own reads are concurrent, but its first page
and the tail of its last windows leave the rate limit idle for a moment, and small lists are mostly that moment.
A :class:`Prefetcher` runs the history reads of the next few partitions in background threads, into bounded
queues; when the SDK thread reaches such a partition, it takes the queue instead of starting from nothing, and
which partition it takes next is the one whose read is furthest along (``sync_order.py``).

Only reads are done ahead: records are still emitted, and state still advances, by the partition's own sync. A
prefetched read that is never taken (the run failed first) is simply dropped.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from typing import Any

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Prefetcher:
    """Background producers keyed by what they read; each buffers at most ``max_buffered`` items."""

    def __init__(self, max_buffered: int = 4) -> None:
        self.max_buffered = max_buffered
        self._queues: dict[Hashable, queue.Queue[Any]] = {}
        self._reading: set[Hashable] = set()  # producers still running (reading, or waiting to buffer)
        self._taken: set[Hashable] = set()
        self._plan: deque[tuple[Hashable, Callable[[], Iterator[Any]]]] = deque()
        self._ahead = 0
        self._lock = threading.Lock()

    def read_ahead(self, plan: list[tuple[Hashable, Callable[[], Iterator[Any]]]], running: int) -> None:
        """Keep ``running`` producers of ``plan`` (in its order) reading; start the next as soon as one ends.

        A producer that ends (a small list, after one request) is replaced from its own thread, not when the
        SDK thread next gets here: during a large stream that could be seconds of idle request budget.
        """
        with self._lock:
            self._plan = deque(plan)
            self._ahead = running
        self._top_up()

    def _top_up(self) -> None:
        while True:
            with self._lock:
                if not self._plan or len(self._reading - self._taken) >= self._ahead:
                    return
                key, produce = self._plan.popleft()
                if key in self._queues or key in self._taken:
                    continue
            self.start(key, produce)

    def start(self, key: Hashable, produce: Callable[[], Iterator[Any]]) -> None:
        """Start ``produce()`` in a background thread unless a producer for ``key`` exists already."""
        with self._lock:
            if key in self._queues:
                return
            buffer: queue.Queue[Any] = queue.Queue(self.max_buffered)
            self._queues[key] = buffer
            self._reading.add(key)

        def run() -> None:
            try:
                _run(produce, buffer)
            finally:
                with self._lock:
                    self._reading.discard(key)
                self._top_up()

        threading.Thread(target=run, name=f"prefetch-{key}", daemon=True).start()

    def reading(self, key: Hashable) -> bool:
        """A producer for ``key`` runs (reading, paused by the read budget, or waiting to buffer)."""
        with self._lock:
            return key in self._reading and key not in self._taken

    def read_ended(self, key: Hashable) -> bool:
        """A producer for ``key`` was started and has ended (taken or not)."""
        with self._lock:
            return key not in self._reading and (key in self._queues or key in self._taken)

    def finished(self, key: Hashable) -> bool:
        """The producer for ``key`` has ended and nobody took its items yet: all of them are buffered."""
        with self._lock:
            return key in self._queues and key not in self._reading

    def buffered(self) -> dict[Hashable, list[Any]]:
        """What each read ahead not yet taken has buffered (a snapshot, for measurement and tests)."""
        with self._lock:
            queues = list(self._queues.items())
        return {key: [i for i in list(b.queue) if i is not _DONE and not isinstance(i, _Failure)] for key, b in queues}

    def take(self, key: Hashable) -> Batches | None:
        """The items of the producer started for ``key`` (errors re-raised here), or None if there is none."""
        with self._lock:
            buffer = self._queues.pop(key, None)
            self._taken.add(key)
        return None if buffer is None else Batches(buffer)


def _run(produce: Callable[[], Iterator[Any]], buffer: queue.Queue[Any]) -> None:
    try:
        for item in produce():
            buffer.put(item)
            del item  # the consumer's now: not held here through the next item's reads
    except BaseException as error:  # handed to the consumer, which raises it in the SDK's thread
        buffer.put(_Failure(error))
        return
    buffer.put(_DONE)


class Batches(Iterator[Any]):
    """A taken producer's items, in order; :meth:`ready` says whether the next one can be had without waiting.

    The tap writes another partition's batch rather than wait on this one (``interleave.py``): it asks
    :meth:`ready` at each batch boundary.
    """

    def __init__(self, buffer: queue.Queue[Any]) -> None:
        self._buffer = buffer
        self._ended = False

    def __iter__(self) -> Batches:
        return self

    def __next__(self) -> Any:
        if self._ended:
            raise StopIteration
        item = self._buffer.get()
        if item is _DONE:
            self._ended = True
            raise StopIteration
        if isinstance(item, _Failure):
            self._ended = True
            raise item.error
        return item

    def ready(self) -> bool:
        """Whether :meth:`__next__` returns (an item, the end or an error) without waiting for a read."""
        return self._ended or not self._buffer.empty()
