"""The shared token bucket after a 429: no burst, and no slot taken beyond the refused request's own."""

from __future__ import annotations

import time

from tap_stripe_aep.rate_limit import TokenBucket


def test_after_a_refusal_the_next_request_waits_one_interval_not_two() -> None:
    bucket = TokenBucket(rate=5)  # one request every 200 ms
    bucket.acquire()
    time.sleep(0.25)  # a token saved up: without a refusal the next request would go at once
    bucket.penalize()
    started = time.monotonic()
    bucket.acquire()
    waited = time.monotonic() - started
    # The saved-up token is gone (no burst right after a 429) ...
    assert waited >= 0.15
    # ... but no slot more is taken: Stripe's window does not count the refused request (taking a token more
    # made every 429 cost two slots: 0.4 s here).
    assert waited < 0.3


def test_a_slot_taken_late_is_not_lost() -> None:
    """Threads that wake late (the GIL held by the writer thread) still send ``rate`` requests a second."""
    bucket = TokenBucket(rate=50)  # a slot every 20 ms
    bucket.acquire()
    time.sleep(0.065)  # three slots passed with no thread taking them
    started = time.monotonic()
    for _ in range(3):
        bucket.acquire()
    # The slots missed are taken now (a bucket of one token lost them: these three waited 40 ms and more).
    assert time.monotonic() - started < 0.02


def test_never_more_than_rate_requests_in_a_sliding_window() -> None:
    """However many tokens are saved up, the server's sliding second never sees more than ``rate`` requests."""
    bucket = TokenBucket(rate=4, burst=10)
    time.sleep(0.8)  # four tokens saved up, and more coming
    started = time.monotonic()
    for _ in range(4):
        bucket.acquire()
    assert time.monotonic() - started < 0.15  # the burst goes at once ...
    bucket.acquire()
    # ... but the fifth request waits for the first to leave the window (about a second after it), though the
    # bucket holds a token for it within 0.2 s.
    assert time.monotonic() - started >= 0.95
