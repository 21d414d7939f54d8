"""Money moving: charges, payment and setup intents, refunds, disputes, checkout, balance, payouts, transfers.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from collections.abc import Iterator

from tap_stripe_aep.backfill import created_of
from tap_stripe_aep.streams.base import StripeObject, StripeStream


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
    """Balance transactions: no events, yet ``status`` moves from ``pending`` to ``available`` later.

    Later runs re-read by ``created`` from the bookmark, or from the oldest transaction that was still pending
    when last emitted, whichever is older, so that the change to ``available`` is emitted too. The partition
    state keeps that time as ``oldest_pending`` (only this run's pending transactions count).
    """

    name = "balance_transactions"

    def reread_from(self, state: dict, bookmark: int) -> int:
        oldest_pending = state.pop("oldest_pending", None)
        return bookmark if oldest_pending is None else min(bookmark, int(oldest_pending))

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        state = self._partition_state
        for obj in objects:
            if obj.get("status") == "pending":
                created = created_of(obj)
                if state.get("oldest_pending") is None or created < state["oldest_pending"]:
                    state["oldest_pending"] = created
        yield from super()._emit_window_objects(objects)


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
