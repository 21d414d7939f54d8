"""Builders for checkout sessions, credit notes and setup intents. Each builder is a pure function of
(account data, index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400


def checkout_session(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["checkout_sessions"]
    rng = d.rng("checkout_sessions", i)
    created = seq.created(i)
    cur = fake.currency(rng)
    total = fake.amount(rng, cur)
    mode = rng.pick(("payment", "payment", "subscription", "setup"))
    status = rng.pick(("complete", "complete", "complete", "expired", "open"))
    complete = status == "complete"
    name, email = fake.person(rng)
    return {
        "id": seq.id_of(i),
        "object": "checkout.session",
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": "https://example.com/cancel",
        "client_reference_id": None,
        "created": created,
        "currency": cur,
        "customer": d.pick("customers", created, rng),
        "customer_creation": "if_required",
        "customer_details": {"address": None, "email": email, "name": name, "phone": None, "tax_exempt": "none"}
        if complete
        else None,
        "customer_email": None,
        "expires_at": created + DAY,
        "invoice": None,
        "livemode": False,
        "locale": None,
        "metadata": {},
        "mode": mode,
        "payment_intent": d.pick("payment_intents", created, rng) if mode == "payment" and complete else None,
        "payment_link": None,
        "payment_method_types": ["card"],
        "payment_status": "paid" if complete and mode != "setup" else "unpaid",
        "recovered_from": None,
        "setup_intent": None,
        "status": status,
        "submit_type": None,
        "subscription": d.pick("subscriptions", created, rng) if mode == "subscription" and complete else None,
        "success_url": "https://example.com/success",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": "https://checkout.stripe.com/c/pay/emulator" if status == "open" else None,
    }


def credit_note(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import CREDIT_NOTE_AT, CREDIT_NOTE_EVERY

    seq = d.seq["credit_notes"]
    inv = d.seq["invoices"].original(k * CREDIT_NOTE_EVERY + CREDIT_NOTE_AT)
    created = seq.created(k)
    amount = max(1, inv["total"] // 2)
    cn_id = seq.id_of(k)
    line = {
        "id": "cnli_" + cn_id[3:],
        "object": "credit_note_line_item",
        "amount": amount,
        "description": "Partial credit",
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": inv["lines"]["data"][0]["id"],
        "livemode": False,
        "quantity": 1,
        "type": "invoice_line_item",
    }
    return {
        "id": cn_id,
        "object": "credit_note",
        "amount": amount,
        "amount_shipping": 0,
        "created": created,
        "currency": inv["currency"],
        "customer": inv["customer"],
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": created,
        "invoice": inv["id"],
        "lines": {"object": "list", "data": [line], "has_more": False, "url": f"/v1/credit_notes/{cn_id}/lines"},
        "livemode": False,
        "memo": None,
        "metadata": {},
        "number": f"{inv['number']}-CN-01",
        "out_of_band_amount": None,
        "pdf": f"https://pay.stripe.com/credit_notes/emulator/{cn_id}/pdf",
        "post_payment_amount": amount,
        "pre_payment_amount": 0,
        "pretax_credit_amounts": [],
        "reason": ("duplicate", "order_change", "product_unsatisfactory")[k % 3],
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_taxes": [],
        "type": "post_payment",
        "voided_at": None,
    }


def setup_intent(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["setup_intents"]
    rng = d.rng("setup_intents", i)
    created = seq.created(i)
    seti_id = seq.id_of(i)
    status = rng.pick(("succeeded", "succeeded", "succeeded", "requires_payment_method", "canceled"))
    return {
        "id": seti_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": "abandoned" if status == "canceled" else None,
        "client_secret": f"{seti_id}_secret_{rng.text(24)}",
        "created": created,
        "customer": d.pick("customers", created, rng),
        "description": None,
        "flow_directions": None,
        "last_setup_error": None,
        # issue 9 (H9): generated attempt i confirmed intent i (emulators/stripe/objects_storefront.setup_attempt)
        "latest_attempt": d.seq["setup_attempts"].id_of(i) if "setup_attempts" in d.seq else None,
        "livemode": False,
        "mandate": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": "pm_" + rng.text(24) if status == "succeeded" else None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": status,
        "usage": "off_session",
    }
