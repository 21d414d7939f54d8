"""The request pool is sized from the rate limit, so a live-mode key is not capped by its own thread count."""

from __future__ import annotations

import pytest

from tap_stripe_aep.tap import TapStripeAEP

TEST_KEY = "sk_test_" + "a" * 24
LIVE_KEY = "sk_live_" + "a" * 24


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"api_key": TEST_KEY}, 10),  # 25 requests/s x 0.4 s
        ({"api_key": LIVE_KEY}, 36),  # 90 requests/s x 0.4 s: a pool of 8 would cap it near 40 requests/s at 200 ms
        ({"api_key": LIVE_KEY, "max_requests_per_second": 10}, 8),  # never below 8
        ({"api_key": LIVE_KEY, "max_concurrency": 5}, 5),  # an explicit setting wins
    ],
)
def test_pool_follows_the_rate_limit(config: dict, expected: int) -> None:
    tap = TapStripeAEP(config=config, validate_config=True)
    assert tap.max_concurrency == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # A partition's read is chains of full pages by cursor (~10 requests/s busy at 200 ms each); the pool
        # serves the partition being emitted first, so reading more ahead never starves it.
        ({"api_key": TEST_KEY}, 4),  # 25 requests/s
        ({"api_key": LIVE_KEY}, 9),  # 90 requests/s
        ({"api_key": LIVE_KEY, "max_requests_per_second": 5}, 4),  # never below 4
    ],
)
def test_read_ahead_follows_the_rate_limit(config: dict, expected: int) -> None:
    assert TapStripeAEP(config=config, validate_config=True).prefetch_partitions == expected
