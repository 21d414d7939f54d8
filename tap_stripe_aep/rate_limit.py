"""One process-wide token bucket: every thread that calls Stripe takes a token first.

Stripe counts requests per key across the whole account, so the limit must be shared by all threads of all
streams, not kept per thread or per stream.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

# A request whose slot came while no thread could take it (every waiting thread asleep, or waiting for the GIL
# while the writer thread encodes records) may go up to this late without the slot being lost.
CATCH_UP_SECONDS = 0.05
# The client's count of requests in any sliding window this long never passes the rate: Stripe (and the emulator)
# count a key's requests over a sliding second, as they arrive; the margin covers requests that reach the server
# closer together than they were sent.
WINDOW_SECONDS = 1.02


class TokenBucket:
    """Allows ``rate`` acquisitions per second on average, never more than ``rate`` in any ``WINDOW_SECONDS``.

    Stripe (and the emulator) count requests over a sliding second, so requests are spaced evenly rather than
    sent in bunches that trip the server's limiter. A bucket of one token spaced them, but lost every slot no
    thread took on time: at 100 requests/s a slot comes every 10 ms, and a waiting thread wakes up to the
    interpreter's 5 ms switch interval late while another thread holds the GIL (the writer thread encoding
    records); measured, 40 threads took 76 tokens a second of 100 beside one busy thread (issue 10, session 9).
    So a slot may be taken up to ``CATCH_UP_SECONDS`` late (a bucket of ``1 + rate * CATCH_UP_SECONDS``
    tokens), and a sliding window of the last requests sent keeps the catch-up from passing ``rate`` in any
    window of ``WINDOW_SECONDS``.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else 1.0 + self.rate * CATCH_UP_SECONDS)
        self._tokens = min(1.0, self.capacity)  # a run starts with one request, not a burst
        self._updated = time.monotonic()
        # Requests in any window: at most ``rate`` (a rate of 2.5 allows 3 in a second, as a sliding count does).
        self._window_limit = max(1, math.ceil(self.rate))
        self._sent: deque[float] = deque()  # when the last ``_window_limit`` requests took their token
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a token is free and the window has room; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                sent = self._sent
                while sent and sent[0] <= now - WINDOW_SECONDS:
                    sent.popleft()
                window_full = len(sent) >= self._window_limit
                if self._tokens >= 1.0 and not window_full:
                    self._tokens -= 1.0
                    sent.append(now)
                    return waited
                delay = (1.0 - self._tokens) / self.rate if self._tokens < 1.0 else 0.0
                if window_full:
                    delay = max(delay, sent[0] + WINDOW_SECONDS - now)
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
