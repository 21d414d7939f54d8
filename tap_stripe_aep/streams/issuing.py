"""Stripe Issuing: cardholders, the cards issued to them, authorizations, transactions and disputes.

An account without Issuing answers these lists with an error; what each stream reads is in
``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream


class IssuingAuthorizationsStream(StripeStream):
    name = "issuing_authorizations"


class IssuingCardholdersStream(StripeStream):
    name = "issuing_cardholders"


class IssuingCardsStream(StripeStream):
    name = "issuing_cards"


class IssuingDisputesStream(StripeStream):
    name = "issuing_disputes"


class IssuingTransactionsStream(StripeStream):
    name = "issuing_transactions"


STREAM_TYPES: list[type[StripeStream]] = [
    IssuingAuthorizationsStream,
    IssuingCardholdersStream,
    IssuingCardsStream,
    IssuingDisputesStream,
    IssuingTransactionsStream,
]
