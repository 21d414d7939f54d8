"""Money moving: charges, payment and setup intents, refunds, disputes, checkout, balance, payouts, transfers.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream


class ChargesStream(StripeStream):
    name = "charges"


class PaymentIntentsStream(StripeStream):
    name = "payment_intents"


class RefundsStream(StripeStream):
    name = "refunds"


class DisputesStream(StripeStream):
    name = "disputes"


class SetupIntentsStream(StripeStream):
    name = "setup_intents"


class CheckoutSessionsStream(StripeStream):
    name = "checkout_sessions"


class BalanceTransactionsStream(StripeStream):
    name = "balance_transactions"


class PayoutsStream(StripeStream):
    name = "payouts"


class TransfersStream(StripeStream):
    name = "transfers"


STREAM_TYPES: list[type[StripeStream]] = [
    ChargesStream,
    PaymentIntentsStream,
    RefundsStream,
    DisputesStream,
    SetupIntentsStream,
    CheckoutSessionsStream,
    BalanceTransactionsStream,
    PayoutsStream,
    TransfersStream,
]
