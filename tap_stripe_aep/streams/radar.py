"""Radar (fraud): early fraud warnings from card networks and manual reviews of payments.

An account without Radar answers these lists with an error; what each stream reads is in
``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream


class EarlyFraudWarningsStream(StripeStream):
    name = "early_fraud_warnings"


class ReviewsStream(StripeStream):
    name = "reviews"


STREAM_TYPES: list[type[StripeStream]] = [EarlyFraudWarningsStream, ReviewsStream]
