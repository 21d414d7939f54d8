"""Which XDM `eventType` each Stripe object version becomes.

XDM's standard values (`meta:enum` of `eventType` in the commerce event schema) are used where one means
the same thing; otherwise `stripe.<object>.<state>`, which XDM allows (the list is a suggestion, not an enum).
Every choice is listed with its reason in docs/xdm-mapping.md.
"""

from __future__ import annotations

from collections.abc import Callable
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
    get = record.get  # (runs for every event record: `object` read once)
    if get("is_deleted"):
        return "deleted"
    obj = get("object")
    if obj == "charge" and get("refunded") is True:
        return "refunded"
    if obj == "transfer" and get("reversed") is True:
        return "reversed"
    if obj == "review" and isinstance(get("open"), bool):  # issue 9: H9
        return "opened" if record["open"] else "closed"  # Stripe's own words (review.opened / review.closed)
    status = get("status")
    if isinstance(status, str) and status:
        return status
    # No status (transfers, line items, Stripe events): first sighting is the creation.
    return "created" if get("updated") in (None, get("created")) else "updated"


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


def event_type_of(stream_name: str) -> Callable[[dict[str, Any]], str]:
    """`default_event_type` for one stream, as one function (the stream's table read once): what the mapping
    calls for every record of the stream."""
    table = EVENT_TYPES.get(stream_name, {})
    otherwise = table.get("*")

    def event_type(record: dict[str, Any]) -> str:
        state = record_state(record)
        chosen = table.get(state)
        if chosen is None and state != "deleted":
            chosen = otherwise
        return chosen or custom_event_type(record, stream_name, state)

    return event_type


def commerce_measure(event_type: str) -> str | None:
    """`commerce.purchases` -> `purchases`, when XDM has a counter for it."""
    if event_type.startswith("commerce."):
        measure = event_type[len("commerce.") :]
        if measure in COMMERCE_MEASURES:
            return measure
    return None
