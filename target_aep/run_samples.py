"""Figures sampled over a run in bounded memory: throughput over time and record latencies.

A continuous run lasts hours or days, so neither keeps one entry per record or per second forever:
``ThroughputSamples`` keeps cumulative counts at most ``max_points`` times and halves its resolution when full
(cumulative counts lose no record when points are dropped: a rate between two kept points is still exact), and
``LatencyReservoir`` keeps a uniform random sample of fixed size (Vitter's algorithm R) beside the exact count and
maximum.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThroughputPoint:
    """Cumulative records received and landed ``seconds`` after the run started."""

    seconds: float
    received: int
    landed: int


class ThroughputSamples:
    """Cumulative (received, landed) counts over time; at most ``max_points`` kept, the first and last always."""

    def __init__(self, max_points: int = 240) -> None:
        self.max_points = max(4, max_points)
        self.started = time.monotonic()
        self._points: list[ThroughputPoint] = [ThroughputPoint(0.0, 0, 0)]
        self._lock = threading.RLock()  # re-entrant: the stop-signal handler may sample on the main thread

    def count_from(self, started: float) -> None:
        """Measure time from ``started`` (a ``time.monotonic()`` value): the process's start rather than the first
        message's, so that a run waiting on its tap shows the wait."""
        with self._lock:
            self.started = started

    def sample(self, received: int, landed: int, now: float | None = None) -> None:
        seconds = (time.monotonic() if now is None else now) - self.started
        with self._lock:
            self._points.append(ThroughputPoint(max(seconds, 0.0), received, landed))
            if len(self._points) > self.max_points:
                # Keep every other point (and the newest): half the resolution, the same totals.
                last = self._points[-1]
                self._points = [*self._points[:-1:2], last]

    def points(self) -> list[ThroughputPoint]:
        with self._lock:
            return list(self._points)

    def rates(self) -> list[tuple[float, float, float]]:
        """(seconds at the end of the interval, received per second, landed per second) between kept points."""
        points = self.points()
        rates = []
        for before, after in itertools.pairwise(points):
            span = after.seconds - before.seconds
            if span <= 0:
                continue
            rates.append(
                (after.seconds, (after.received - before.received) / span, (after.landed - before.landed) / span)
            )
        return rates


@dataclass
class LatencyReservoir:
    """Seconds from a change in Stripe to its acceptance in AEP: exact count and max, percentiles from a sample."""

    size: int = 10_000
    count: int = 0
    longest: float = 0.0
    _sample: list[float] = field(default_factory=list)
    _random: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def add(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            self.longest = max(self.longest, seconds)
            if len(self._sample) < self.size:
                self._sample.append(seconds)
                return
            slot = self._random.randrange(self.count)
            if slot < self.size:
                self._sample[slot] = seconds

    def __len__(self) -> int:
        return self.count

    def percentile(self, share: float) -> float | None:
        """The nearest-rank percentile (``share`` 0..1) of the sample; None before any latency."""
        with self._lock:
            ordered = sorted(self._sample)
        if not ordered:
            return None
        rank = max(1, math.ceil(share * len(ordered)))
        return ordered[rank - 1]
