"""Billing: customers, invoices and their lines and items, subscriptions and their items, credit notes.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.streams.children import ChildListStream


class CustomersStream(StripeStream):
    name = "customers"


class InvoicesStream(StripeStream):
    name = "invoices"


class InvoiceItemsStream(StripeStream):
    name = "invoice_items"


class InvoiceLineItemsStream(ChildListStream):
    name = "invoice_line_items"


class SubscriptionsStream(StripeStream):
    name = "subscriptions"


class SubscriptionItemsStream(ChildListStream):
    name = "subscription_items"


class CreditNotesStream(StripeStream):
    name = "credit_notes"


STREAM_TYPES: list[type[StripeStream]] = [
    CustomersStream,
    InvoicesStream,
    InvoiceItemsStream,
    InvoiceLineItemsStream,
    SubscriptionsStream,
    SubscriptionItemsStream,
    CreditNotesStream,
]
