"""Which XDM `eventType` each Stripe object version becomes.

XDM's standard values (`meta:enum` of `eventType` in the commerce event schema) are used where one means
the same thing; otherwise `stripe.<object>.<state>`, which XDM allows (the list is a suggestion, not an enum).
Every choice is listed with its reason in docs/xdm-mapping.md.
"""

from __future__ import annotations

from typing import Any

from target_aep.xdm.stripe_fields import object_type

# Commerce measures XDM counts with `commerce.<measure>.value = 1` when the event has that type.
COMMERCE_MEASURES = frozenset(
    {
        "purchases", "checkouts", "productListAdds", "productListRemovals", "productListOpens",
        "productListReopens", "productListViews", "productViews", "saveForLaters", "cartAbandons",
        "instantPurchase", "inStorePurchase",
    }
)  # fmt: skip

# stream -> Stripe status -> eventType. "*" is the fallback for the stream's other statuses,
# "deleted" applies to `is_deleted` records.
EVENT_TYPES: dict[str, dict[str, str]] = {
    "charges": {
        "succeeded": "commerce.purchases",
        "pending": "commerce.backofficeOrderPlaced",
        "refunded": "commerce.backofficeOrderCancelled",  # pseudo-status: `refunded: true`
    },
    "payment_intents": {
        "requires_payment_method": "commerce.checkouts",
        "requires_confirmation": "commerce.checkouts",
        "requires_action": "commerce.checkouts",
        "processing": "commerce.checkouts",
        "canceled": "commerce.backofficeOrderCancelled",
    },
    "refunds": {
        "succeeded": "commerce.backofficeCreditMemoIssued",
        "pending": "commerce.backofficeCreditMemoIssued",
    },
    "invoices": {
        "paid": "commerce.purchases",
        "open": "commerce.backofficeOrderPlaced",
        "void": "commerce.backofficeOrderCancelled",
        "deleted": "commerce.backofficeOrderCancelled",
    },
    "invoice_items": {"*": "commerce.productListAdds", "deleted": "commerce.productListRemovals"},
    "invoice_line_items": {"*": "commerce.productListAdds"},
    "subscriptions": {
        "active": "commerce.backofficeOrderPlaced",
        "trialing": "commerce.backofficeOrderPlaced",
        "canceled": "commerce.backofficeOrderCancelled",
    },
    "subscription_items": {"*": "commerce.productListAdds", "deleted": "commerce.productListRemovals"},
    "checkout_sessions": {
        "open": "commerce.checkouts",
        "complete": "commerce.backofficeOrderPlaced",
        "expired": "commerce.cartAbandons",
    },
    "credit_notes": {"issued": "commerce.backofficeCreditMemoIssued"},
    # --- issue 9: H8 (other states: `stripe.<object>.<state>`)
    "credit_note_line_items": {"*": "commerce.backofficeCreditMemoIssued"},
    "quotes": {"accepted": "commerce.backofficeOrderPlaced", "canceled": "commerce.backofficeOrderCancelled"},
    "subscription_schedules": {"canceled": "commerce.backofficeOrderCancelled"},
    # --- issue 9: H9 (Radar, Issuing and setup attempts keep `stripe.<object>.<state>`: XDM has no such type)
    "checkout_session_line_items": {"*": "commerce.productListAdds"},
}


def record_state(record: dict[str, Any]) -> str:
    """The state an event type is chosen by: `deleted`, `refunded` (a fully refunded charge), `reversed` (a
    reversed transfer), the object's `status`, else `created` / `updated`."""
    if record.get("is_deleted"):
        return "deleted"
    if record.get("object") == "charge" and record.get("refunded") is True:
        return "refunded"
    if record.get("object") == "transfer" and record.get("reversed") is True:
        return "reversed"
    if record.get("object") == "review" and isinstance(record.get("open"), bool):  # issue 9: H9
        return "opened" if record["open"] else "closed"  # Stripe's own words (review.opened / review.closed)
    status = record.get("status")
    if isinstance(status, str) and status:
        return status
    # No status (transfers, line items, Stripe events): first sighting is the creation.
    return "created" if record.get("updated") in (None, record.get("created")) else "updated"


def custom_event_type(record: dict[str, Any], stream_name: str, state: str) -> str:
    """`stripe.<object>.<state>`; Stripe's own events keep their type: `stripe.customer.updated`."""
    obj = object_type(record, stream_name)
    if obj == "event" and isinstance(record.get("type"), str) and state != "deleted":
        return f"stripe.{record['type']}"
    return f"stripe.{obj}.{state}"


def default_event_type(stream_name: str, record: dict[str, Any]) -> str:
    """The eventType for one record of `stream_name` (any stream, known or not)."""
    state = record_state(record)
    table = EVENT_TYPES.get(stream_name, {})
    chosen = table.get(state)
    if chosen is None and state != "deleted":
        chosen = table.get("*")
    return chosen or custom_event_type(record, stream_name, state)


def commerce_measure(event_type: str) -> str | None:
    """`commerce.purchases` -> `purchases`, when XDM has a counter for it."""
    if event_type.startswith("commerce."):
        measure = event_type[len("commerce.") :]
        if measure in COMMERCE_MEASURES:
            return measure
    return None
