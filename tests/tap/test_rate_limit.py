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
