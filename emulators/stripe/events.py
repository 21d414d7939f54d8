"""The events of one account: ``*.created`` events for generated objects of the last 30 days, plus the events
mutations add. Events form a :class:`Sequence` in created order like any resource, with an index per event type
so ``type``/``types[]`` filters never scan unrelated events."""

from __future__ import annotations

import bisect
import fnmatch
import heapq
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from emulators.stripe.generator import EVENT_RETENTION, FAILED_AT, FAILED_EVERY, AccountData
from emulators.stripe.sequence import Obj, Sequence

CREATE_TYPES = {
    "customers": "customer.created",
    "products": "product.created",
    "prices": "price.created",
    "plans": "plan.created",
    "coupons": "coupon.created",
    "promotion_codes": "promotion_code.created",
    "payment_intents": "payment_intent.created",
    "charges": "charge.succeeded",
    "refunds": "refund.created",
    "disputes": "charge.dispute.created",
    "payouts": "payout.created",
    "transfers": "transfer.created",
    "invoices": "invoice.created",
    "invoice_items": "invoiceitem.created",
    "subscriptions": "customer.subscription.created",
    "checkout_sessions": "checkout.session.completed",
    "credit_notes": "credit_note.created",
    "setup_intents": "setup_intent.created",
    # --- issue 9: H7
    "application_fees": "application_fee.created",
    "top_ups": "topup.created",
    # --- issue 9: H8
    "tax_rates": "tax_rate.created",
    "subscription_schedules": "subscription_schedule.created",
    "quotes": "quote.created",
    "invoice_payments": "invoice_payment.paid",  # the only invoice payment event: open ones have none
    "billing_meters": "billing.meter.created",
    # --- issue 9: H9 (shipping rates, file links, setup attempts: Stripe sends no events)
    "payment_links": "payment_link.created",
    "files": "file.created",
    "early_fraud_warnings": "radar.early_fraud_warning.created",
    "reviews": "review.opened",
    "issuing_cardholders": "issuing_cardholder.created",
    "issuing_cards": "issuing_card.created",
    "issuing_authorizations": "issuing_authorization.created",
    "issuing_transactions": "issuing_transaction.created",
    "issuing_disputes": "issuing_dispute.created",
}
# Stripe has no "<type>.updated" for payment intents, setup intents, checkout sessions or invoice items
UPDATE_TYPES = {
    "customers": "customer.updated",
    "charges": "charge.updated",
    "refunds": "refund.updated",
    "invoices": "invoice.updated",
    "subscriptions": "customer.subscription.updated",
    "products": "product.updated",
    "prices": "price.updated",
    "plans": "plan.updated",
    "coupons": "coupon.updated",
    "promotion_codes": "promotion_code.updated",
    "disputes": "charge.dispute.updated",
    "payouts": "payout.updated",
    "credit_notes": "credit_note.updated",
    "transfers": "transfer.updated",
    # --- issue 9: H7
    "application_fees": "application_fee.refunded",
    "top_ups": "topup.succeeded",
    # --- issue 9: H9 (a review's change is its closing; files never change)
    "payment_links": "payment_link.updated",
    "early_fraud_warnings": "radar.early_fraud_warning.updated",
    "reviews": "review.closed",
    "issuing_cardholders": "issuing_cardholder.updated",
    "issuing_cards": "issuing_card.updated",
    "issuing_authorizations": "issuing_authorization.updated",
    "issuing_transactions": "issuing_transaction.updated",
    "issuing_disputes": "issuing_dispute.updated",
}
DELETE_TYPES = {
    "customers": "customer.deleted",
    "products": "product.deleted",
    "prices": "price.deleted",
    "plans": "plan.deleted",
    "coupons": "coupon.deleted",
    "invoice_items": "invoiceitem.deleted",
}
# --- issue 9: H8
H8_CHANGE_TYPES = (
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "customer.tax_id.created",
    "customer.tax_id.deleted",
    "tax_rate.updated",
    "subscription_schedule.released",
    "subscription_schedule.canceled",
    "quote.finalized",
    "quote.accepted",
    "billing.meter.deactivated",
    "invoice.voided",
)
ALL_TYPES = sorted(
    {
        *CREATE_TYPES.values(),
        *UPDATE_TYPES.values(),
        *DELETE_TYPES.values(),
        "charge.failed",
        "checkout.session.expired",
        "transfer.reversed",
        "account.updated",
        # --- issue 9: H8 (what POST /_emulator/mutate {"billing": n} sends)
        *H8_CHANGE_TYPES,
    }
)
_CODES = list(CREATE_TYPES)


class EventLog:
    """Events of one account, built lazily from (resource, index) for generated objects."""

    def __init__(self, data: AccountData, api_version: str) -> None:
        self.data = data
        self.api_version = api_version
        self._res = bytearray()
        self._src = array("q")
        created = array("q")
        self.by_type: dict[str, array] = {}
        since = data.end - EVENT_RETENTION
        for t, (when, code, i) in enumerate(heapq.merge(*(self._recent(code, since) for code in range(len(_CODES))))):
            self._res.append(code)
            self._src.append(i)
            created.append(when)
            self.by_type.setdefault(self._created_type(code, i), array("q")).append(t)
        self.seq = Sequence(
            "events", "event", data.codec("events"), len(self._res), created.__getitem__, self._build_generated
        )

    def _recent(self, code: int, since: int) -> Iterator[tuple[int, int, int]]:
        seq = self.data.seq[_CODES[code]]
        for i in range(seq.bound(since, right=False), seq.base_count):
            if _CODES[code] == "checkout_sessions" and seq.original(i)["status"] != "complete":
                continue  # only completed sessions have an event
            if _CODES[code] == "invoice_payments" and seq.original(i)["status"] != "paid":
                continue  # invoice_payment.paid is the only event of an invoice payment
            yield seq.created(i), code, i

    @staticmethod
    def _created_type(code: int, i: int) -> str:
        if _CODES[code] == "charges" and i % FAILED_EVERY == FAILED_AT:
            return "charge.failed"
        return CREATE_TYPES[_CODES[code]]

    def _build_generated(self, k: int) -> Obj:
        code, i = self._res[k], self._src[k]
        obj = self.data.seq[_CODES[code]].original(i)
        return self._event(k, self._created_type(code, i), obj, None, self.seq.created(k))

    def _event(self, k: int, kind: str, obj: Obj, previous: dict[str, Any] | None, created: int) -> Obj:
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event: Obj = {
            "id": self.seq.id_of(k),
            "object": "event",
            "api_version": self.api_version,
            "created": created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
        if not self.data.is_platform:
            event["account"] = self.data.account
        return event

    def record(self, kind: str, obj: Obj, now: int, previous: dict[str, Any] | None = None) -> str:
        """Append an event happening now; returns its id."""
        k = len(self.seq)
        event = self._event(k, kind, obj, previous, now)
        self.seq.append(event, now)
        self.by_type.setdefault(kind, array("q")).append(k)
        return str(event["id"])

    def indices_desc(self, types: list[str] | None, lo: int, hi: int) -> Iterator[int]:
        """Event indices in [lo, hi), newest first, of the given types (all types when None)."""
        if types is None:
            return iter(range(hi - 1, lo - 1, -1))
        return heapq.merge(*(_desc(self.by_type.get(t), lo, hi) for t in types), reverse=True)

    def indices_asc(self, types: list[str] | None, lo: int, hi: int) -> Iterator[int]:
        if types is None:
            return iter(range(lo, hi))
        return heapq.merge(*(_asc(self.by_type.get(t), lo, hi) for t in types))


def _bounds(items: array, lo: int, hi: int) -> tuple[int, int]:
    return bisect.bisect_left(items, lo), bisect.bisect_left(items, hi)


def _desc(items: array | None, lo: int, hi: int) -> Iterator[int]:
    if items is None:
        return iter(())
    a, b = _bounds(items, lo, hi)
    return (items[p] for p in range(b - 1, a - 1, -1))


def _asc(items: array | None, lo: int, hi: int) -> Iterator[int]:
    if items is None:
        return iter(())
    a, b = _bounds(items, lo, hi)
    return (items[p] for p in range(a, b))


def matching_types(pattern: str, known: Iterable[str] = ()) -> list[str]:
    """Event types matching ``type`` (``invoice.*`` style wildcards allowed)."""
    if "*" not in pattern:
        return [pattern]
    return sorted(t for t in {*ALL_TYPES, *known} if fnmatch.fnmatchcase(t, pattern))
