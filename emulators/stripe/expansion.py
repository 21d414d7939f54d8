"""``expand[]``: which fields of which objects can be expanded, checking a path, and inlining the objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.stripe.errors import ApiError
from emulators.stripe.query import MAX_EXPAND_DEPTH

ANY = "*"  # a polymorphic reference (a balance transaction's source): nothing below it can be named
# object name -> expandable field -> object name of what it refers to
EXPANDABLE: dict[str, dict[str, str]] = {
    "customer": {"default_source": ANY},
    "charge": {
        "customer": "customer",
        "balance_transaction": "balance_transaction",
        "payment_intent": "payment_intent",
    },
    "payment_intent": {"customer": "customer", "latest_charge": "charge"},
    "refund": {"charge": "charge", "payment_intent": "payment_intent", "balance_transaction": "balance_transaction"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "payout": {"balance_transaction": "balance_transaction"},
    "transfer": {"balance_transaction": "balance_transaction"},
    "balance_transaction": {"source": ANY},
    "invoice": {"customer": "customer"},
    "line_item": {"subscription": "subscription", "invoice": "invoice"},
    "invoiceitem": {"customer": "customer", "invoice": "invoice"},
    "subscription": {"customer": "customer", "latest_invoice": "invoice"},
    "subscription_item": {},
    "product": {"default_price": "price"},
    "price": {"product": "product"},
    "plan": {"product": "product"},
    "coupon": {},
    "promotion_code": {"customer": "customer"},
    "checkout.session": {
        "customer": "customer",
        "payment_intent": "payment_intent",
        "subscription": "subscription",
        "invoice": "invoice",
        "setup_intent": "setup_intent",
    },
    "credit_note": {"customer": "customer", "invoice": "invoice"},
    "setup_intent": {"customer": "customer"},
    "event": {},
    # --- issue 9: H9
    "item": {},
    "payment_link": {},
    "shipping_rate": {},
    "setup_attempt": {"customer": "customer", "setup_intent": "setup_intent"},
    "file": {},
    "file_link": {"file": "file"},
    "radar.early_fraud_warning": {"charge": "charge", "payment_intent": "payment_intent"},
    "review": {"charge": "charge", "payment_intent": "payment_intent"},
    "issuing.cardholder": {},
    "issuing.card": {},
    "issuing.authorization": {"cardholder": "issuing.cardholder"},
    "issuing.transaction": {
        "authorization": "issuing.authorization",
        "card": "issuing.card",
        "cardholder": "issuing.cardholder",
    },
    "issuing.dispute": {"transaction": "issuing.transaction"},
}
# embedded lists one can expand through: object name -> field -> object name of the list's items
NESTED: dict[str, dict[str, str]] = {
    "subscription": {"items": "subscription_item"},
    "invoice": {"lines": "line_item"},
    "subscription_item": {"price": "price", "plan": "plan"},
}

Lookup = Callable[[str, str], Any]  # (object name or ANY, id) -> object or None


def check_path(object_name: str, path: str, *, is_list: bool) -> None:
    """Raise Stripe's 400 unless ``path`` names expandable fields of ``object_name`` (``data.`` first for lists)."""
    parts = path.split(".")
    if is_list:
        if parts[0] != "data" or len(parts) < 2:
            raise _cannot(path)
        parts = parts[1:]
    if len([p for p in parts if p != "data"]) > MAX_EXPAND_DEPTH:
        raise ApiError(400, f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property.", param="expand")
    current = object_name
    it = iter(parts)
    for part in it:
        if current == ANY:
            raise _cannot(part)
        target = EXPANDABLE.get(current, {}).get(part)
        if target is not None:
            current = target
            continue
        nested = NESTED.get(current, {}).get(part)
        if nested is None:
            raise _cannot(part)
        # an embedded list is walked through its "data": "items.data.price"
        if current != "subscription_item" and next(it, None) != "data":
            raise _cannot(part)
        current = nested


def _cannot(part: str) -> ApiError:
    return ApiError(400, f"This property cannot be expanded ({part}).", param="expand")


def expand(obj: Any, parts: list[str], object_name: str, lookup: Lookup) -> Any:
    """A copy of ``obj`` with ``parts`` expanded (``obj`` itself is never changed: it may be cached)."""
    if not parts or not isinstance(obj, dict):
        return obj
    head, rest = parts[0], parts[1:]
    value = obj.get(head)
    if value is None:
        return obj
    out = dict(obj)
    target = EXPANDABLE.get(object_name, {}).get(head)
    if target is not None:
        if isinstance(value, str):
            found = lookup(target, value)
            value = found if found is not None else value
        out[head] = expand(value, rest, str(value.get("object", target)) if isinstance(value, dict) else target, lookup)
        return out
    nested = NESTED.get(object_name, {}).get(head)
    if isinstance(value, dict) and value.get("object") == "list" and rest[:1] == ["data"]:
        items = [expand(item, rest[1:], nested or "", lookup) for item in value.get("data", [])]
        out[head] = {**value, "data": items}
    else:
        out[head] = expand(value, rest, nested or "", lookup)
    return out
