"""One process-wide token bucket: every thread that calls Stripe takes a token first.

Stripe counts requests per key across the whole account, so the limit must be shared by all threads of all
streams, not kept per thread or per stream.
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Allows ``rate`` acquisitions per second on average, with bursts of at most ``burst``.

    The burst is kept small (default one second's worth, at most 5) so that a pool of threads starting together
    does not trip a server-side limiter that counts requests per wall-clock second.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else min(max(rate / 5, 1.0), 5.0))
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

    def penalize(self, seconds: float) -> None:
        """After a 429, drain the bucket so that every thread backs off, not only the one that was refused."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate


_shared: dict[float, TokenBucket] = {}
_shared_lock = threading.Lock()


def shared_bucket(rate: float) -> TokenBucket:
    """The process-wide bucket for ``rate`` (one per distinct rate, in practice one per process)."""
    with _shared_lock:
        bucket = _shared.get(rate)
        if bucket is None:
            bucket = _shared[rate] = TokenBucket(rate)
        return bucket
