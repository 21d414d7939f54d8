"""What is sold: products, prices, plans, coupons, promotion codes.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream


class ProductsStream(StripeStream):
    name = "products"


class PricesStream(StripeStream):
    name = "prices"


class PlansStream(StripeStream):
    name = "plans"


class CouponsStream(StripeStream):
    name = "coupons"


class PromotionCodesStream(StripeStream):
    name = "promotion_codes"


STREAM_TYPES: list[type[StripeStream]] = [
    ProductsStream,
    PricesStream,
    PlansStream,
    CouponsStream,
    PromotionCodesStream,
]
