"""How an account's objects spread over its history: evenly (the default), or growing with bursty days.

Real accounts are not even: a growing business has most of its objects in recent months, and a sale or a
launch puts many times the usual volume into one day. :class:`Shape` maps a position ``u`` in ``[0, 1)`` (an
object's rank among its resource, with jitter) to a ``created`` time, monotonically, so ``created`` never
decreases with the index and every count stays what the even layout gives: only the times move.

- growth: density ``exp(k t)`` with ``k = ln 2 / doubling``, i.e. it doubles every ``growth_doubling_days``;
- bursts: ``burst_days`` whole days that hold ``BURST_SHARE`` of the resource's objects each and nothing else
  (the growth timeline skips them), placed at fixed fractions of the history so the data stays a pure function
  of the seed.

The inverse of the growth CDF is closed-form (computed in a form that cannot overflow), so building a time is a
few float operations: generation stays lazy and fast.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass

DAY = 86_400
BURST_SHARE = 0.03  # of a resource's objects, per bursty day: ~4x the newest density at a 90-day doubling
BURST_AT = (0.80, 0.93, 0.55, 0.67)  # where bursty days fall, as fractions of the history (first N used)


@dataclass(frozen=True)
class Shape:
    growth_doubling_days: float = 0.0  # 0: no growth
    burst_days: int = 0

    @property
    def is_even(self) -> bool:
        return self.growth_doubling_days <= 0 and self.burst_days <= 0

    def timeline(self, start: int, end: int) -> Callable[[float], int]:
        """``u`` in ``[0, 1)`` -> ``created`` in ``[start, end)``, non-decreasing in ``u``."""
        return _Timeline(self, start, end).at


class _Timeline:
    def __init__(self, shape: Shape, start: int, end: int) -> None:
        span = max(1, end - start)
        bursts = min(len(BURST_AT), max(0, shape.burst_days))
        while bursts and bursts * DAY * 4 > span:  # a short history keeps room for growth around its bursts
            bursts -= 1
        self.start, self.end = start, end
        self.growth_span = span - bursts * DAY  # the growth timeline: real time without the bursty days
        self.k = math.log(2) / (shape.growth_doubling_days * DAY) if shape.growth_doubling_days > 0 else 0.0
        growth_share = 1.0 - bursts * BURST_SHARE
        self.growth_share = growth_share
        # Segments of u, in order: (u where it begins, burst index or -1 for growth, growth offset, days skipped)
        self.bounds: list[float] = []
        self.segments: list[tuple[int, float, int]] = []
        u, before, skipped = 0.0, 0.0, 0
        for position in sorted(BURST_AT[:bursts]):
            burst_start = start + int(span * position)
            s = burst_start - start - skipped * DAY  # the burst's place on the growth timeline
            cdf = self._cdf(s)
            self.bounds.append(u)
            self.segments.append((-1, before, skipped))
            u += growth_share * (cdf - before)
            self.bounds.append(u)
            self.segments.append((burst_start, 0.0, skipped))
            u += BURST_SHARE
            before, skipped = cdf, skipped + 1
        self.bounds.append(u)
        self.segments.append((-1, before, skipped))

    def _cdf(self, s: float) -> float:
        """Share of the growth objects created before ``s`` seconds into the growth timeline."""
        total = self.growth_span
        if self.k == 0:
            return s / total
        return (math.exp(self.k * (s - total)) - math.exp(-self.k * total)) / (1 - math.exp(-self.k * total))

    def _inverse(self, v: float) -> float:
        total = self.growth_span
        if self.k == 0:
            return v * total
        # ln(1 + v (e^kT - 1)) / k, rewritten as T + ln(v + (1 - v) e^-kT) / k: no overflow for any k T
        return total + math.log(max(v + (1 - v) * math.exp(-self.k * total), 1e-300)) / self.k

    def at(self, u: float) -> int:
        index = bisect.bisect_right(self.bounds, u) - 1
        burst_start, before, skipped = self.segments[max(0, index)]
        begins = self.bounds[max(0, index)]
        if burst_start >= 0:
            created = burst_start + int((u - begins) / BURST_SHARE * DAY)
        else:
            v = min(1.0, before + (u - begins) / self.growth_share)
            created = self.start + int(self._inverse(v)) + skipped * DAY
        return min(self.end - 1, max(self.start, created))
