"""One process-wide token bucket: every thread that calls Stripe takes a token first.

Stripe counts requests per key across the whole account, so the limit must be shared by all threads of all
streams, not kept per thread or per stream.
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Allows ``rate`` acquisitions per second on average, with bursts of at most ``burst``.

    The burst defaults to one request: Stripe (and the emulator) count requests over a sliding second, so
    requests are spaced evenly rather than sent in bunches that trip the server's limiter.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else 1.0)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a token is free; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                delay = (1.0 - self._tokens) / self.rate
            time.sleep(delay)
            waited += delay

    def penalize(self, tokens: float = 0.0) -> None:
        """After a 429, drop any token saved up: the next request waits its full interval (no burst after a refusal).

        No token is taken away by default: Stripe's limiter (the emulator's model, a sliding one-second window)
        does not count a refused request, so the refused request's own slot is the only one lost. Taking a token
        more cost a second slot per 429 without fewer 429s (growing shape at 25 requests/s: 37-44 refused either
        way, ~1.5 s of a 78 s run; docs/benchmarks.md, issue 10 session 4).
        """
        with self._lock:
            now = time.monotonic()  # bring the bucket up to now first, or a token saved up since would survive
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens = min(self._tokens, 0.0) - tokens


_shared: dict[float, TokenBucket] = {}
_shared_lock = threading.Lock()


def shared_bucket(rate: float) -> TokenBucket:
    """The process-wide bucket for ``rate`` (one per distinct rate, in practice one per process)."""
    with _shared_lock:
        bucket = _shared.get(rate)
        if bucket is None:
            bucket = _shared[rate] = TokenBucket(rate)
        return bucket
