"""Builders for what checkout sells with: payment links, shipping rates, a session's line items, and the
attempts that confirm setup intents. Pure functions of (account data, index) or of the parent object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake
from emulators.stripe.ids import Rng, stable_hash

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
SHIPPING = (("Standard", 5, 7), ("Express", 1, 2), ("Overnight", 1, 1), ("Freight", 10, 20), ("Pickup", 0, 1))


def payment_link(d: AccountData, i: int) -> dict[str, Any]:
    """A payment link: Stripe's object has no ``created`` field (the sequence still orders them by time)."""
    seq = d.seq["payment_links"]
    rng = d.rng("payment_links", i)
    link_id = seq.id_of(i)
    return {
        "id": link_id,
        "object": "payment_link",
        "active": rng.chance(0.8),
        "after_completion": {
            "hosted_confirmation": {"custom_message": None},
            "redirect": None,
            "type": "hosted_confirmation",
        },
        "allow_promotion_codes": rng.chance(0.3),
        "application": None,
        "application_fee_amount": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_address_collection": "auto",
        "consent_collection": None,
        "currency": fake.currency(rng),
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer_creation": "if_required",
        "inactive_message": None,
        "invoice_creation": None,
        "livemode": False,
        "metadata": {"campaign": rng.pick(("spring", "launch", "newsletter", "partner"))},
        "on_behalf_of": None,
        "payment_intent_data": None,
        "payment_method_collection": "always",
        "payment_method_types": None,
        "phone_number_collection": {"enabled": False},
        "restrictions": None,
        "shipping_address_collection": None,
        "shipping_options": [],
        "submit_type": "auto",
        "subscription_data": None,
        "tax_id_collection": {"enabled": False, "required": "never"},
        "transfer_data": None,
        "url": f"https://buy.stripe.com/test_{link_id[6:]}",
    }


def shipping_rate(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["shipping_rates"]
    rng = d.rng("shipping_rates", i)
    name, low, high = SHIPPING[i % len(SHIPPING)]
    cur = fake.currency(rng)
    return {
        "id": seq.id_of(i),
        "object": "shipping_rate",
        "active": rng.chance(0.85),
        "created": seq.created(i),
        "delivery_estimate": {
            "maximum": {"unit": "business_day", "value": high},
            "minimum": {"unit": "business_day", "value": low},
        },
        "display_name": f"{name} ({cur.upper()})",
        "fixed_amount": {"amount": 0 if name == "Pickup" else fake.amount(rng, cur, 3.0, 60.0), "currency": cur},
        "livemode": False,
        "metadata": {},
        "tax_behavior": rng.pick(("exclusive", "inclusive", "unspecified")),
        "tax_code": "txcd_92010001",
        "type": "fixed_amount",
    }


def checkout_line_items(d: AccountData, session: dict[str, Any]) -> list[dict[str, Any]]:
    """A session's line items (1-3), splitting its subtotal; a pure function of the session, so sessions
    created later by a mutation have lines too."""
    rng = Rng(stable_hash(d.salt, "checkout_line_items", session["id"]))
    count = 1 + rng.below(3)
    subtotal = int(session.get("amount_subtotal") or 0)
    shares = [subtotal // count] * count
    shares[0] += subtotal - sum(shares)
    items = []
    for n, amount in enumerate(shares):
        price_index = d.pick_index("prices", session["created"], rng)
        price = d.seq["prices"].original(price_index) if price_index is not None else None
        quantity = 1 + rng.below(3) if amount % 2 == 0 else 1
        items.append(
            {
                "id": f"li_{session['id'][-14:]}{n}",
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": session["currency"],
                "description": price["nickname"] if price and price.get("nickname") else f"Item {n + 1}",
                "price": price,
                "quantity": quantity,
            }
        )
    return items


def setup_attempt(d: AccountData, k: int) -> dict[str, Any]:
    """The attempt that confirmed setup intent k (one per generated intent, 5 s after it)."""
    seq = d.seq["setup_attempts"]
    return attempt_for(d.seq["setup_intents"].original(k), seq.id_of(k), seq.created(k))


def attempt_for(intent: dict[str, Any], attempt_id: str, created: int) -> dict[str, Any]:
    """A setup attempt of ``intent`` whose outcome matches the intent's status."""
    status = {"succeeded": "succeeded", "canceled": "abandoned"}.get(intent["status"], "failed")
    failed = status == "failed"
    return {
        "id": attempt_id,
        "object": "setup_attempt",
        "application": None,
        "attach_to_self": False,
        "created": created,
        "customer": intent["customer"],
        "flow_directions": None,
        "livemode": False,
        "on_behalf_of": None,
        "payment_method": intent["payment_method"] or "pm_" + intent["id"][5:],
        "payment_method_details": {"card": {"brand": "visa", "checks": None, "country": "US"}, "type": "card"},
        "setup_error": {"code": "card_declined", "message": "Your card was declined.", "type": "card_error"}
        if failed
        else None,
        "setup_intent": intent["id"],
        "status": status,
        "usage": intent["usage"],
    }
