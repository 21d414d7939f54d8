"""Billing documents and references: tax rates, subscription schedules, quotes, invoice payments, credit note
lines and billing meters.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``. Two lists take
no ``created`` filter (quotes, billing meters, ``created_filter=False`` in the catalog): their history is one
paged read of the whole list; both are small next to charges or invoices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterator

from tap_stripe_aep.backfill import created_of
from tap_stripe_aep.streams.base import StripeObject, StripeStream
from tap_stripe_aep.streams.children import ChildListStream


class TaxRatesStream(StripeStream):
    name = "tax_rates"


class SubscriptionSchedulesStream(StripeStream):
    name = "subscription_schedules"


class InvoicePaymentsStream(StripeStream):
    name = "invoice_payments"


class CreditNoteLineItemsStream(ChildListStream):
    """A credit note's lines carry amounts but no currency: the tap copies the credit note's onto each line, so
    that no amount travels without its currency (the target dead-letters such a record)."""

    name = "credit_note_line_items"
    parent_fields_used = ("currency",)

    def _children_of(self, job: tuple[StripeObject, bool, str]) -> list[StripeObject]:
        parent, _, _ = job
        children = super()._children_of(job)
        for child in children:
            if child.get("currency") is None:
                child["currency"] = parent.get("currency")
        return children


class BillingMetersStream(StripeStream):
    name = "billing_meters"


class QuotesStream(StripeStream):
    """Quotes: events for every step but editing a draft (Stripe has no ``quote.updated``).

    A draft changes silently, so each run also lists the drafts (``status=draft``, one request while there are
    fewer than 100) and emits those whose content differs from what the last run emitted. The partition state
    keeps a short digest per draft (``draft_digests``); drafts are few, finalized quotes leave it.
    """

    name = "quotes"

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        digests = self._partition_state.setdefault("draft_digests", {})
        for obj in objects:
            if obj.get("status") == "draft":
                digests[obj["id"]] = _digest(obj)
        yield from super()._emit_window_objects(objects)

    def _emit_changes(self, since: int, until: int, *, deletions_only: bool = False) -> Generator[dict, None, set[str]]:
        seen = yield from super()._emit_changes(since, until, deletions_only=deletions_only)
        if deletions_only:
            return seen
        known: dict[str, str] = self._partition_state.get("draft_digests") or {}
        current: dict[str, str] = {}
        changed: list[StripeObject] = []
        for page in self.client.list_pages(
            self.entry.list_path,
            {"status": "draft"},
            account=self._account,
            stream=self.name,
            permission=self.entry.permission,
        ):
            for obj in page.get("data") or []:
                current[obj["id"]] = digest = _digest(obj)
                if known.get(obj["id"]) != digest and obj["id"] not in seen:
                    changed.append(obj)
        if changed:
            self.logger.info(
                "Stream 'quotes', account %s: %d draft quotes changed without an event", self._account, len(changed)
            )
        self._partition_state["draft_digests"] = current
        for obj in sorted(changed, key=lambda o: (created_of(o), o["id"])):
            yield self.make_record(obj, updated=until - 1, is_deleted=False)
        return seen | {str(obj["id"]) for obj in changed}


def _digest(obj: StripeObject) -> str:
    """A short fingerprint of a quote as Stripe sent it (before the tap converts timestamps)."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode(), usedforsecurity=False).hexdigest()[:16]


STREAM_TYPES: list[type[StripeStream]] = [
    TaxRatesStream,
    SubscriptionSchedulesStream,
    QuotesStream,
    InvoicePaymentsStream,
    CreditNoteLineItemsStream,
    BillingMetersStream,
]
