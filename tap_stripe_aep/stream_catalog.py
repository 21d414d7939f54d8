"""The one table of Stripe streams: what each stream reads, where, and how it learns about changes.

This module is data. The streams, the client and the schema generator all read it, so a stream's list path,
its Stripe object class, its events and the permission a restricted key needs are written down once.

The pinned Stripe API version lives here too (`STRIPE_API_VERSION`): it is the version the installed `stripe`
package was generated from, so the schemas generated from that package's typed classes describe exactly the
response shape the client asks for with its `Stripe-Version` header.

How each stream learns about changes (`UpdateSource`):

- ``EVENTS``: the stream's own events (``event_types``) carry the changed object in ``data.object``.
- ``PARENT_EVENTS``: a child list (invoice lines, subscription items) has no events of its own; the tap
  re-reads the children of every parent its parent stream saw change.
- ``RECENT_CREATED_WINDOW``: Stripe sends no events for the object (balance transactions, shipping rates, files,
  setup attempts); every run re-reads from the bookmark by ``created`` (one request when nothing is new), so
  creations and late changes (``status`` pending -> available) are picked up. Lists without a ``created``
  filter (``created_filter=False``) are paged newest first down to the bookmark instead.
- ``APPEND_ONLY``: the ``events`` stream itself; an event never changes after it is created.
- ``FULL_REREAD``: no events and changes that a ``created`` window cannot see (a shipping rate archived, a file
  link's expiry moved): the whole list, small reference data, is re-read on every run and only objects whose
  content changed since the last run are emitted (a digest per object is kept in the partition state).

Blind spots every stream closes the same way (see ``tap_stripe_aep.streams.base``):

- creations without an event (a checkout session stays ``open`` with no event): an ``EVENTS`` stream also lists
  what was created since the bookmark (one cheap request when nothing is new);
- changes announced on another object (an invoice item is attached to an invoice when the invoice is created,
  and Stripe sends no ``invoiceitem.updated``): ``reread_when_changed`` names that stream and the list filter;
- an account without a product (Issuing, Connect, Radar, Billing meters): ``product`` names it, and the stream
  is skipped for that account with one warning while the others are read.

Stripe wildcards (``type=customer.*``) match every type under the prefix, including other objects'
(``customer.subscription.updated`` carries a Subscription), so ``event_types`` always lists exact names and
`StripeStream.event_wildcard` offers a wildcard only where it matches exactly those names.
"""

from __future__ import annotations

import enum
import functools
import operator
from dataclasses import dataclass

import stripe

# The one place the API version is chosen. Everything else (client headers, schema `$comment`s) imports it.
STRIPE_API_VERSION: str = stripe.api_version
STRIPE_PACKAGE_VERSION: str = stripe.VERSION


class UpdateSource(enum.StrEnum):
    """Where a stream's changes after the first full read come from."""

    EVENTS = "events"
    PARENT_EVENTS = "parent_events"
    RECENT_CREATED_WINDOW = "recent_created_window"
    APPEND_ONLY = "append_only"
    FULL_REREAD = "full_reread"


@dataclass(frozen=True)
class StripeStream:
    """One Stripe list the tap reads, described as data.

    Attributes:
        name: the Singer stream name (fixed by the public interface).
        stripe_class_name: the typed resource class in the pinned `stripe` package (the schema's source), by its
            name under ``stripe`` (``Customer``, ``checkout.Session``): see :attr:`stripe_class`.
        list_path: the list endpoint. Child streams carry a ``{invoice_id}``-style placeholder in the path
            or name the parent in ``parent_query_param``.
        parent: the parent stream's name for child lists, else None.
        parent_query_param: the query parameter that names the parent (``subscription=sub_...``), if any.
        update_source: how changes are seen after the first read (see the module docstring).
        event_types: exact Stripe event types whose ``data.object`` is this stream's object.
        deletion_event_types: the ``event_types`` meaning the object is gone (``is_deleted`` = true).
        list_status_all: the list hides some objects unless ``status=all`` is sent (subscriptions).
        permission: the restricted-key permission Stripe names in a 403 for this list.
        created_field: the field holding the creation time (``date`` on invoice items); None when the
            object has none (invoice lines: the tap takes the parent invoice's time for ``updated``).
        product: the Stripe product an account must have for this list (``Connect``, ``Issuing``, ``Radar``,
            ``Billing meters``, ...). An account without it answers the list with an error naming no parameter;
            the stream is then skipped for that account with one warning naming the product.
        platform_only: read with the platform's own key, once, never with ``Stripe-Account`` (``accounts`` and
            the children of accounts: a connected account cannot list the platform's accounts).
        embedded_field: the parent's field embedding the first page of this child list (``lines``, ``items``,
            ``reversals``, ``refunds``, ``external_accounts``); None when the parent embeds nothing.
        parent_key: the record field naming the parent (default: the parent's object name, ``.`` -> ``_``),
            filled in when Stripe's child object lacks it (``checkout_session`` on a checkout line item).
        key_properties: the primary key besides ``account_id`` (``("payout", "id")`` for one record per pair).
        created_filter: the list accepts ``created[gte]``/``created[lt]``; False: history and re-reads page the
            whole list newest first (children are read through their parent and never need it).
        reread_when_changed: ``(stream, list filter)``: also re-read this stream's objects whose ``filter`` is an
            object that stream saw change (``("invoices", "invoice")`` for invoice items).
        reread_event_types: which of that stream's events trigger the re-read (default: all of them);
            ``("invoice.created",)`` for invoice items, which are only attached when an invoice is created.

    Child list paths name their parent with ``{parent_id}`` (``/v1/accounts/{parent_id}/persons``); the older
    ``{<object>_id}`` spelling (``{invoice_id}``) is accepted too.
    """

    name: str
    stripe_class_name: str
    list_path: str
    permission: str
    update_source: UpdateSource = UpdateSource.EVENTS
    event_types: tuple[str, ...] = ()
    deletion_event_types: tuple[str, ...] = ()
    parent: str | None = None
    parent_query_param: str | None = None
    list_status_all: bool = False
    created_field: str | None = "created"
    product: str | None = None
    platform_only: bool = False
    embedded_field: str | None = None
    parent_key: str | None = None
    key_properties: tuple[str, ...] = ("id",)
    created_filter: bool = True
    reread_when_changed: tuple[str, str] | None = None
    reread_event_types: tuple[str, ...] = ()

    @property
    def stripe_class(self) -> type:
        """The resource class, imported when first asked for: ``stripe`` imports each class's module on first
        access, and the tap's run needs only a few child streams' ``OBJECT_NAME`` (the schema generator needs
        them all). Importing the 52 at start-up cost about 0.12 s of CPU before the first request."""
        return operator.attrgetter(self.stripe_class_name)(stripe)  # type: ignore[no-any-return]

    @functools.cached_property
    def object_name(self) -> str:
        """Stripe's ``object`` value for this stream's records (``customer``, ``line_item``, ...)."""
        return str(self.stripe_class.OBJECT_NAME)  # type: ignore[attr-defined]

    @property
    def parent_field(self) -> str | None:
        """The record field naming the parent object (``invoice``, ``checkout_session``), for child lists."""
        if self.parent is None:
            return None
        return self.parent_key or stream_named(self.parent).object_name.replace(".", "_")

    def child_path(self, parent_object_name: str, parent_id: str) -> str:
        """The list path of one parent's children."""
        placeholder = "{" + parent_object_name.replace(".", "_") + "_id}"
        return self.list_path.replace("{parent_id}", parent_id).replace(placeholder, parent_id)

    @property
    def can_be_deleted(self) -> bool:
        """True when Stripe reports deletions of this object with a ``*.deleted`` event."""
        return bool(self.deletion_event_types)

    @property
    def event_wildcard(self) -> str | None:
        """``prefix.*`` when that wildcard matches exactly ``event_types`` among all Stripe event types."""
        if not self.event_types:
            return None
        prefixes = {event_type.rsplit(".", 1)[0] for event_type in self.event_types}
        if len(prefixes) != 1:
            return None
        prefix = prefixes.pop()
        matched = {t for t in all_event_types() if t.startswith(prefix + ".")}
        return f"{prefix}.*" if matched == set(self.event_types) else None


@functools.cache
def all_event_types() -> frozenset[str]:
    """Every event type the pinned package knows (the ``Literal`` on ``stripe.Event.type``); read when first
    needed, like :attr:`StripeStream.stripe_class`."""
    annotation = stripe.Event.__annotations__["type"]
    return frozenset(getattr(annotation, "__args__", ()))


def _events(prefix: str, *actions: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{action}" for action in actions)


STREAMS: tuple[StripeStream, ...] = (
    StripeStream(
        name="customers",
        stripe_class_name="Customer",
        list_path="/v1/customers",
        permission="rak_customer_read",
        # Not `customer.*`: that also matches customer.subscription.*, customer.discount.*, customer.tax_id.*.
        event_types=_events("customer", "created", "updated", "deleted"),
        deletion_event_types=("customer.deleted",),
    ),
    StripeStream(
        name="charges",
        stripe_class_name="Charge",
        list_path="/v1/charges",
        permission="rak_charge_read",
        # Not `charge.*`: that also matches charge.refund.updated and charge.dispute.*.
        event_types=_events("charge", "captured", "expired", "failed", "pending", "refunded", "succeeded", "updated"),
    ),
    StripeStream(
        name="payment_intents",
        stripe_class_name="PaymentIntent",
        list_path="/v1/payment_intents",
        permission="rak_payment_intent_read",
        event_types=_events(
            "payment_intent",
            "amount_capturable_updated",
            "canceled",
            "created",
            "partially_funded",
            "payment_failed",
            "processing",
            "requires_action",
            "succeeded",
        ),
    ),
    StripeStream(
        name="refunds",
        stripe_class_name="Refund",
        list_path="/v1/refunds",
        permission="rak_refund_read",
        event_types=("charge.refund.updated", *_events("refund", "created", "failed", "updated")),
    ),
    StripeStream(
        name="invoices",
        stripe_class_name="Invoice",
        list_path="/v1/invoices",
        permission="rak_invoice_read",
        event_types=_events(
            "invoice",
            "created",
            "deleted",
            "finalization_failed",
            "finalized",
            "marked_uncollectible",
            "overdue",
            "overpaid",
            "paid",
            "payment_action_required",
            "payment_attempt_required",
            "payment_failed",
            "payment_succeeded",
            "sent",
            "upcoming",
            "updated",
            "voided",
            "will_be_due",
        ),
        # Only draft invoices can be deleted.
        deletion_event_types=("invoice.deleted",),
    ),
    StripeStream(
        name="invoice_items",
        stripe_class_name="InvoiceItem",
        list_path="/v1/invoiceitems",
        permission="rak_invoice_read",
        event_types=_events("invoiceitem", "created", "deleted"),
        created_field="date",
        deletion_event_types=("invoiceitem.deleted",),
        # Stripe removed invoiceitem.updated: an item is attached to an invoice when the invoice is created.
        reread_when_changed=("invoices", "invoice"),
        reread_event_types=("invoice.created",),
    ),
    StripeStream(
        name="invoice_line_items",
        stripe_class_name="InvoiceLineItem",
        list_path="/v1/invoices/{invoice_id}/lines",
        permission="rak_invoice_read",
        parent="invoices",
        update_source=UpdateSource.PARENT_EVENTS,
        created_field=None,
        embedded_field="lines",
    ),
    StripeStream(
        name="subscriptions",
        stripe_class_name="Subscription",
        list_path="/v1/subscriptions",
        permission="rak_subscription_read",
        # `customer.subscription.deleted` is a cancellation: the subscription stays readable with
        # status=canceled, so it is not a deletion (and status=all keeps canceled ones in the list).
        event_types=_events(
            "customer.subscription",
            "created",
            "deleted",
            "paused",
            "pending_update_applied",
            "pending_update_expired",
            "resumed",
            "trial_will_end",
            "updated",
        ),
        list_status_all=True,
    ),
    StripeStream(
        name="subscription_items",
        stripe_class_name="SubscriptionItem",
        list_path="/v1/subscription_items",
        permission="rak_subscription_read",
        parent="subscriptions",
        parent_query_param="subscription",
        update_source=UpdateSource.PARENT_EVENTS,
        embedded_field="items",
    ),
    StripeStream(
        name="products",
        stripe_class_name="Product",
        list_path="/v1/products",
        permission="rak_product_read",
        event_types=_events("product", "created", "deleted", "updated"),
        deletion_event_types=("product.deleted",),
    ),
    StripeStream(
        name="prices",
        stripe_class_name="Price",
        list_path="/v1/prices",
        # Stripe's dashboard calls it "Prices"; the permission keeps the older name.
        permission="rak_plan_read",
        event_types=_events("price", "created", "deleted", "updated"),
        deletion_event_types=("price.deleted",),
    ),
    StripeStream(
        name="plans",
        stripe_class_name="Plan",
        list_path="/v1/plans",
        permission="rak_plan_read",
        event_types=_events("plan", "created", "deleted", "updated"),
        deletion_event_types=("plan.deleted",),
    ),
    StripeStream(
        name="coupons",
        stripe_class_name="Coupon",
        list_path="/v1/coupons",
        permission="rak_coupon_read",
        event_types=_events("coupon", "created", "deleted", "updated"),
        deletion_event_types=("coupon.deleted",),
    ),
    StripeStream(
        name="promotion_codes",
        stripe_class_name="PromotionCode",
        list_path="/v1/promotion_codes",
        permission="rak_promotion_code_read",
        event_types=_events("promotion_code", "created", "updated"),
    ),
    StripeStream(
        name="balance_transactions",
        stripe_class_name="BalanceTransaction",
        list_path="/v1/balance_transactions",
        permission="rak_balance_transaction_source_read",
        update_source=UpdateSource.RECENT_CREATED_WINDOW,
    ),
    StripeStream(
        name="payouts",
        stripe_class_name="Payout",
        list_path="/v1/payouts",
        permission="rak_payout_read",
        event_types=_events("payout", "canceled", "created", "failed", "paid", "reconciliation_completed", "updated"),
    ),
    StripeStream(
        name="disputes",
        stripe_class_name="Dispute",
        list_path="/v1/disputes",
        permission="rak_dispute_read",
        event_types=_events("charge.dispute", "closed", "created", "funds_reinstated", "funds_withdrawn", "updated"),
    ),
    StripeStream(
        name="checkout_sessions",
        stripe_class_name="checkout.Session",
        list_path="/v1/checkout/sessions",
        permission="rak_checkout_session_read",
        event_types=_events(
            "checkout.session", "async_payment_failed", "async_payment_succeeded", "completed", "expired"
        ),
    ),
    StripeStream(
        name="credit_notes",
        stripe_class_name="CreditNote",
        list_path="/v1/credit_notes",
        permission="rak_credit_note_read",
        event_types=_events("credit_note", "created", "updated", "voided"),
    ),
    StripeStream(
        name="setup_intents",
        stripe_class_name="SetupIntent",
        list_path="/v1/setup_intents",
        permission="rak_setup_intent_read",
        event_types=_events("setup_intent", "canceled", "created", "requires_action", "setup_failed", "succeeded"),
    ),
    StripeStream(
        name="transfers",
        stripe_class_name="Transfer",
        list_path="/v1/transfers",
        permission="rak_transfer_read",
        event_types=_events("transfer", "created", "reversed", "updated"),
    ),
    StripeStream(
        name="events",
        stripe_class_name="Event",
        list_path="/v1/events",
        permission="rak_event_read",
        update_source=UpdateSource.APPEND_ONLY,
    ),
    # --- issue 9: H7 (Connect, top-ups, payout reconciliation)
    StripeStream(
        name="accounts",
        stripe_class_name="Account",
        list_path="/v1/accounts",
        permission="rak_connected_account_read",
        event_types=("account.updated",),
        product="Connect",
        platform_only=True,
    ),
    StripeStream(
        name="persons",
        stripe_class_name="Person",
        list_path="/v1/accounts/{parent_id}/persons",
        permission="rak_connected_account_read",
        parent="accounts",
        update_source=UpdateSource.PARENT_EVENTS,
        product="Connect",
        platform_only=True,
        parent_key="account",
    ),
    StripeStream(
        name="external_accounts",
        stripe_class_name="BankAccount",
        list_path="/v1/accounts/{parent_id}/external_accounts",
        permission="rak_connected_account_read",
        parent="accounts",
        update_source=UpdateSource.PARENT_EVENTS,
        product="Connect",
        platform_only=True,
        embedded_field="external_accounts",
        parent_key="account",
        created_field=None,  # bank accounts and cards carry no creation time
    ),
    StripeStream(
        name="application_fees",
        stripe_class_name="ApplicationFee",
        list_path="/v1/application_fees",
        permission="rak_application_fee_read",
        # Not `application_fee.*`: that also matches application_fee.refund.updated (a fee refund).
        event_types=_events("application_fee", "created", "refunded"),
        product="Connect",
        # Fees are the platform's: collected by it on its connected accounts' charges.
        platform_only=True,
    ),
    StripeStream(
        name="application_fee_refunds",
        stripe_class_name="ApplicationFeeRefund",
        list_path="/v1/application_fees/{parent_id}/refunds",
        permission="rak_application_fee_read",
        parent="application_fees",
        update_source=UpdateSource.PARENT_EVENTS,
        product="Connect",
        platform_only=True,
        embedded_field="refunds",
        parent_key="fee",
    ),
    StripeStream(
        name="transfer_reversals",
        stripe_class_name="TransferReversal",
        list_path="/v1/transfers/{parent_id}/reversals",
        permission="rak_transfer_read",
        parent="transfers",
        update_source=UpdateSource.PARENT_EVENTS,
        embedded_field="reversals",
        parent_key="transfer",
    ),
    StripeStream(
        name="top_ups",
        stripe_class_name="Topup",
        list_path="/v1/topups",
        permission="rak_topup_read",
        event_types=_events("topup", "canceled", "created", "failed", "reversed", "succeeded"),
    ),
    StripeStream(
        name="payout_balance_transactions",
        stripe_class_name="BalanceTransaction",
        list_path="/v1/balance_transactions",
        permission="rak_balance_transaction_source_read",
        parent="payouts",
        parent_query_param="payout",
        update_source=UpdateSource.PARENT_EVENTS,
        parent_key="payout",
        # One record per (payout, balance transaction) pair.
        key_properties=("payout", "id"),
    ),
    # --- issue 9: H8 (billing and customers)
    StripeStream(
        name="customer_balance_transactions",
        stripe_class_name="CustomerBalanceTransaction",
        list_path="/v1/customers/{parent_id}/balance_transactions",
        permission="rak_customer_read",
        # No events of their own: a balance change is a `customer.updated` (its `balance` moves), so the
        # transactions of every customer that changed are re-read.
        parent="customers",
        update_source=UpdateSource.PARENT_EVENTS,
    ),
    StripeStream(
        name="payment_methods",
        stripe_class_name="PaymentMethod",
        list_path="/v1/customers/{parent_id}/payment_methods",
        permission="rak_payment_method_read",
        # History through the customers (`/v1/payment_methods` alone lists no customer's methods); changes from
        # the methods' own events. A detached method belongs to no customer any more: reported as a deletion.
        parent="customers",
        event_types=_events("payment_method", "attached", "automatically_updated", "detached", "updated"),
        deletion_event_types=("payment_method.detached",),
    ),
    StripeStream(
        name="tax_ids",
        stripe_class_name="TaxId",
        list_path="/v1/customers/{parent_id}/tax_ids",
        permission="rak_customer_read",
        # A customer's tax ids: the list has no `created` filter, so history goes through the customers, which
        # include them when asked (`expand[]=data.tax_ids`): no request per customer.
        parent="customers",
        embedded_field="tax_ids",
        event_types=_events("customer.tax_id", "created", "deleted", "updated"),
        deletion_event_types=("customer.tax_id.deleted",),
    ),
    StripeStream(
        name="tax_rates",
        stripe_class_name="TaxRate",
        list_path="/v1/tax_rates",
        permission="rak_tax_rate_read",
        event_types=_events("tax_rate", "created", "updated"),
    ),
    StripeStream(
        name="subscription_schedules",
        stripe_class_name="SubscriptionSchedule",
        list_path="/v1/subscription_schedules",
        permission="rak_subscription_read",
        event_types=_events(
            "subscription_schedule", "aborted", "canceled", "completed", "created", "expiring", "released", "updated"
        ),
    ),
    StripeStream(
        name="quotes",
        stripe_class_name="Quote",
        list_path="/v1/quotes",
        permission="rak_quote_read",
        # No `created` filter on the list (history is one paged read) and no `quote.updated`: a draft quote
        # changes without an event, so drafts are re-read on every run (`status=draft`).
        event_types=_events("quote", "accepted", "canceled", "created", "finalized"),
        created_filter=False,
    ),
    StripeStream(
        name="invoice_payments",
        stripe_class_name="InvoicePayment",
        list_path="/v1/invoice_payments",
        permission="rak_invoice_read",
        event_types=("invoice_payment.paid",),
        # A payment canceled with its invoice (voided) sends no invoice_payment event: the payments of every
        # invoice that changed are listed again (`invoice=` filter).
        reread_when_changed=("invoices", "invoice"),
    ),
    StripeStream(
        name="credit_note_line_items",
        stripe_class_name="CreditNoteLineItem",
        list_path="/v1/credit_notes/{parent_id}/lines",
        permission="rak_credit_note_read",
        parent="credit_notes",
        update_source=UpdateSource.PARENT_EVENTS,
        embedded_field="lines",
        created_field=None,
    ),
    StripeStream(
        name="billing_meters",
        stripe_class_name="billing.Meter",
        list_path="/v1/billing/meters",
        permission="rak_billing_meter_read",
        product="Billing meters",
        # No `created` filter on the list: history is one paged read (meters are few).
        event_types=_events("billing.meter", "created", "deactivated", "reactivated", "updated"),
        created_filter=False,
    ),
    # --- issue 9: H9 (checkout, Radar, Issuing, files) ---------------------------------------------------------
    StripeStream(
        name="checkout_session_line_items",
        stripe_class_name="LineItem",
        list_path="/v1/checkout/sessions/{parent_id}/line_items",
        permission="rak_checkout_session_read",
        # A session's lines are fixed when it is created; they are read with the session and again whenever
        # the session's events say it changed. Sessions embed their lines only when asked
        # (`expand[]=data.line_items`, which the history read sends), so most sessions cost no request of their own.
        parent="checkout_sessions",
        update_source=UpdateSource.PARENT_EVENTS,
        created_field=None,
        embedded_field="line_items",
    ),
    StripeStream(
        name="payment_links",
        stripe_class_name="PaymentLink",
        # No `created` filter and no `created` field: history is the whole list (tap_stripe_aep.streams.checkout).
        list_path="/v1/payment_links",
        permission="rak_payment_link_read",
        event_types=_events("payment_link", "created", "updated"),
        created_field=None,
        created_filter=False,
    ),
    StripeStream(
        name="shipping_rates",
        stripe_class_name="ShippingRate",
        list_path="/v1/shipping_rates",
        permission="rak_shipping_rate_read",
        # No events at all: a small reference list, re-read whole on every run; only what changed is emitted.
        update_source=UpdateSource.FULL_REREAD,
    ),
    StripeStream(
        name="setup_attempts",
        stripe_class_name="SetupAttempt",
        # `setup_intent` is required by Stripe: attempts are read per setup intent, again when it changes
        # (an attempt is what moves its intent to succeeded / requires_action / setup_failed).
        list_path="/v1/setup_attempts",
        permission="rak_setup_intent_read",
        parent="setup_intents",
        parent_query_param="setup_intent",
        update_source=UpdateSource.PARENT_EVENTS,
    ),
    StripeStream(
        name="files",
        stripe_class_name="File",
        list_path="/v1/files",
        permission="rak_file_read",
        # Files never change and cannot be deleted through the API; they only expire (`expires_at`).
        event_types=("file.created",),
    ),
    StripeStream(
        name="file_links",
        stripe_class_name="FileLink",
        list_path="/v1/file_links",
        permission="rak_file_link_read",
        # No events; `expires_at` and `metadata` can change: re-read whole, only what changed is emitted.
        update_source=UpdateSource.FULL_REREAD,
    ),
    StripeStream(
        name="early_fraud_warnings",
        stripe_class_name="radar.EarlyFraudWarning",
        list_path="/v1/radar/early_fraud_warnings",
        permission="rak_radar_early_fraud_warning_read",
        event_types=_events("radar.early_fraud_warning", "created", "updated"),
        product="Radar",
    ),
    StripeStream(
        name="reviews",
        stripe_class_name="Review",
        list_path="/v1/reviews",
        permission="rak_review_read",
        event_types=_events("review", "closed", "opened"),
        product="Radar",
    ),
    StripeStream(
        name="issuing_authorizations",
        stripe_class_name="issuing.Authorization",
        list_path="/v1/issuing/authorizations",
        permission="rak_issuing_authorization_read",
        event_types=_events("issuing_authorization", "created", "request", "updated"),
        product="Issuing",
    ),
    StripeStream(
        name="issuing_cardholders",
        stripe_class_name="issuing.Cardholder",
        list_path="/v1/issuing/cardholders",
        permission="rak_issuing_cardholder_read",
        event_types=_events("issuing_cardholder", "created", "updated"),
        product="Issuing",
    ),
    StripeStream(
        name="issuing_cards",
        stripe_class_name="issuing.Card",
        list_path="/v1/issuing/cards",
        permission="rak_issuing_card_read",
        event_types=_events("issuing_card", "created", "updated"),
        product="Issuing",
    ),
    StripeStream(
        name="issuing_disputes",
        stripe_class_name="issuing.Dispute",
        list_path="/v1/issuing/disputes",
        permission="rak_issuing_dispute_read",
        event_types=_events(
            "issuing_dispute", "closed", "created", "funds_reinstated", "funds_rescinded", "submitted", "updated"
        ),
        product="Issuing",
    ),
    StripeStream(
        name="issuing_transactions",
        stripe_class_name="issuing.Transaction",
        list_path="/v1/issuing/transactions",
        permission="rak_issuing_transaction_read",
        event_types=_events("issuing_transaction", "created", "purchase_details_receipt_updated", "updated"),
        product="Issuing",
    ),
)

STREAMS_BY_NAME: dict[str, StripeStream] = {stream.name: stream for stream in STREAMS}


def stream_named(name: str) -> StripeStream:
    """The catalog entry for a stream name; KeyError names the known streams."""
    try:
        return STREAMS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown Stripe stream {name!r}; known: {', '.join(STREAMS_BY_NAME)}") from None


def stream_for_event_type(event_type: str) -> StripeStream | None:
    """The stream whose object an event of this type carries, or None (the tap does not read that object)."""
    return _STREAM_BY_EVENT_TYPE.get(event_type)


_STREAM_BY_EVENT_TYPE: dict[str, StripeStream] = {
    event_type: stream for stream in STREAMS for event_type in stream.event_types
}
