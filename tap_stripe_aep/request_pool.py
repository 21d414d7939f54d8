"""The one pool every Stripe request runs on, serving first the partition the SDK thread is waiting on.

Histories are read ahead of the SDK (``prefetch.py``): several partitions' readers submit pages at once, and
with a first-come pool the partition being emitted queued behind the ones read ahead (measured at 90
requests/s: ~9 s of the SDK thread waiting on its own stream). Here each reader submits into its own *lane*;
a free worker takes the oldest task of a preferred lane (the partition being emitted, and direct submissions,
which the SDK thread itself waits on), else the oldest task of the lane opened first: the partitions read ahead
are opened in the order the SDK syncs them, so the budget goes to where the SDK thread will wait next. The rate
limit itself stays one token bucket (``rate_limit.py``): the pool decides which request takes the next token,
not how many there are.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future
from typing import Any

_DIRECT = ("direct",)  # submissions made by the SDK thread itself: always preferred


class RequestPool(Executor):
    """A fixed number of worker threads, tasks queued per lane; preferred lanes first, then oldest first."""

    def __init__(self, workers: int, name: str = "stripe") -> None:
        self._lanes: dict[Hashable, deque[tuple[int, Future[Any], Callable[[], Any]]]] = {}
        self._preferred: set[Hashable] = {_DIRECT}
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._closed = False
        self._waiting = 0  # workers waiting for a task (none queued in any lane)
        for i in range(max(1, workers)):
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True).start()

    # --- Executor ------------------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """A task the calling (SDK) thread waits on: preferred."""
        return self.submit_in(_DIRECT, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._ready:
            self._closed = True
            if cancel_futures:
                for lane in self._lanes.values():
                    for _, future, _ in lane:
                        future.cancel()
                self._lanes.clear()
            self._ready.notify_all()

    # --- lanes -----------------------------------------------------------------------------------------------

    def lane(self, key: Hashable) -> Lane:
        """An executor whose tasks queue in lane ``key`` (one partition's history read), ranked by opening."""
        with self._ready:
            self._lanes.setdefault(key, deque())
        return Lane(self, key)

    def prefer(self, key: Hashable) -> None:
        """The SDK thread now waits on lane ``key``: its queued and future tasks go first."""
        with self._ready:
            self._preferred.add(key)

    def forget(self, key: Hashable) -> None:
        with self._ready:
            self._preferred.discard(key)
            lane = self._lanes.get(key)
            if lane is not None and not lane:
                del self._lanes[key]

    def submit_in(self, key: Hashable, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot submit after shutdown")
            self._lanes.setdefault(key, deque()).append((next(self._order), future, lambda: fn(*args, **kwargs)))
            self._ready.notify()
        return future

    def idle_workers(self) -> int:
        """Workers with nothing to do: no task queued in any lane and no request of theirs in flight.

        A reader near the end of the run reads its last ranges as single chains of pages while the rest of the
        pool waits; it splits what it knows is left when workers sit idle (``backfill.read_history``).
        """
        with self._ready:
            queued = sum(len(lane) for lane in self._lanes.values())
            return max(0, self._waiting - queued)

    # --- workers ---------------------------------------------------------------------------------------------

    def _next_task(self) -> tuple[Future[Any], Callable[[], Any]] | None:
        """The oldest task of a preferred lane, else of the first lane opened (caller holds the lock)."""
        # Lanes are created in the order the SDK will sync their partitions (readers start in that order), so
        # the first non-empty lane is the partition the SDK thread will wait on soonest.
        chosen: deque[tuple[int, Future[Any], Callable[[], Any]]] | None = None
        for key, lane in self._lanes.items():
            if not lane:
                continue
            if key in self._preferred:
                chosen = lane
                break
            if chosen is None:
                chosen = lane
        if chosen is None:
            return None
        _, future, call = chosen.popleft()
        return future, call

    def _work(self) -> None:
        while True:
            with self._ready:
                task = self._next_task()
                while task is None:
                    if self._closed:
                        return
                    self._waiting += 1
                    self._ready.wait()
                    self._waiting -= 1
                    task = self._next_task()
            future, call = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(result)


class Lane(Executor):
    """Submits into one lane of a :class:`RequestPool`."""

    def __init__(self, pool: RequestPool, key: Hashable) -> None:
        self.pool = pool
        self.key = key

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.pool.submit_in(self.key, fn, *args, **kwargs)

    def idle_workers(self) -> int:
        return self.pool.idle_workers()
