"""Builders for customers and billing: invoices (with lines), invoice items, subscriptions (with items),
checkout sessions, credit notes and setup intents. Each builder is a pure function of (account data, index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake
from emulators.stripe.ids import Rng

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
PERIOD_DAYS = {"week": 7, "month": 30, "year": 365}
INVOICE_STATUSES = ("paid",) * 15 + ("open",) * 3 + ("void", "uncollectible")
SUBSCRIPTION_STATUSES = ("active",) * 14 + ("canceled",) * 3 + ("trialing", "past_due", "unpaid")


def customer(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["customers"]
    rng = d.rng("customers", i)
    name, email = fake.person(rng)
    addr = fake.address(rng)
    return {
        "id": seq.id_of(i),
        "object": "customer",
        "address": addr,
        "balance": 0,
        "created": seq.created(i),
        "currency": fake.COUNTRY_CURRENCY.get(addr["country"], "usd"),
        "default_source": None,
        "delinquent": rng.chance(0.03),
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": rng.text(8, "0123456789ABCDEF"),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {"crm_id": f"crm-{i:07d}"} if rng.chance(0.5) else {},
        "name": name,
        "next_invoice_sequence": 1 + rng.below(5),
        "phone": fake.phone(rng),
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _pricing(d: AccountData, price_index: int | None, rng: Rng, cur: str) -> tuple[dict[str, Any] | None, int]:
    """Invoice-line style ``pricing`` for a price, and its unit amount in ``cur``."""
    unit = fake.amount(rng, cur, 5, 200)
    if price_index is None:
        return None, unit
    prices = d.seq["prices"]
    details = {"price": prices.id_of(price_index), "product": d.seq["products"].id_of(price_index // 2)}
    return {"price_details": details, "type": "price_details", "unit_amount_decimal": str(unit)}, unit


def invoice_lines(d: AccountData, i: int, created: int, cur: str, subscription: str | None) -> list[dict[str, Any]]:
    rng = d.rng("invoice_lines", i)
    invoice_id = d.seq["invoices"].id_of(i)
    lines = []
    for n in range(1 + rng.below(3)):
        pricing, unit = _pricing(d, d.pick_index("prices", created, rng), rng, cur)
        quantity = 1 + rng.below(3)
        end = created + 30 * DAY if subscription else created
        lines.append(
            {
                "id": d.line_codec.make(i * 4 + n),
                "object": "line_item",
                "amount": unit * quantity,
                "currency": cur,
                "description": f"{quantity} x item {n + 1}",
                "discount_amounts": [],
                "discountable": True,
                "discounts": [],
                "invoice": invoice_id,
                "livemode": False,
                "metadata": {},
                "parent": None,
                "period": {"end": end, "start": created},
                "pretax_credit_amounts": [],
                "pricing": pricing,
                "quantity": quantity,
                "subscription": subscription,
                "subtotal": unit * quantity,
                "taxes": [],
            }
        )
    return lines


def invoice(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["invoices"]
    rng = d.rng("invoices", i)
    created = seq.created(i)
    cur = fake.currency(rng)
    cust_index = d.pick_index("customers", created, rng)
    cust = d.seq["customers"].original(cust_index) if cust_index is not None else None
    subscription = d.pick("subscriptions", created, rng) if rng.chance(0.5) else None
    status = rng.pick(INVOICE_STATUSES)
    lines = invoice_lines(d, i, created, cur, subscription)
    total = sum(line["amount"] for line in lines)
    paid = total if status == "paid" else 0
    inv_id = seq.id_of(i)
    parent = (
        {"quote_details": None, "subscription_details": {"metadata": {}, "subscription": subscription}}
        | {"type": "subscription_details"}
        if subscription
        else None
    )
    return {
        "id": inv_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Emulator Inc.",
        "account_tax_ids": None,
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": paid,
        "amount_remaining": total - paid,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1 if status != "draft" else 0,
        "attempted": status != "draft",
        "auto_advance": status == "open",
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "status": None},
        "automatically_finalizes_at": None,
        "billing_reason": "subscription_cycle" if subscription else "manual",
        "collection_method": "charge_automatically",
        "created": created,
        "currency": cur,
        "custom_fields": None,
        "customer": cust["id"] if cust else None,
        "customer_address": cust["address"] if cust else None,
        "customer_email": cust["email"] if cust else None,
        "customer_name": cust["name"] if cust else None,
        "customer_phone": cust["phone"] if cust else None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/emulator/{inv_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/emulator/{inv_id}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"object": "list", "data": lines, "has_more": False, "url": f"/v1/invoices/{inv_id}/lines"},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"{cust['invoice_prefix'] if cust else 'EMU'}-{i + 1:04d}",
        "on_behalf_of": None,
        "parent": parent,
        "period_end": created,
        "period_start": created - 30 * DAY if subscription else created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": created + 3600,
            "marked_uncollectible_at": created + 30 * DAY if status == "uncollectible" else None,
            "paid_at": created + 3600 if status == "paid" else None,
            "voided_at": created + DAY if status == "void" else None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": None,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


def invoice_item(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["invoice_items"]
    rng = d.rng("invoice_items", i)
    created = seq.created(i)
    cur = fake.currency(rng)
    pricing, unit = _pricing(d, d.pick_index("prices", created, rng), rng, cur)
    quantity = 1 + rng.below(4)
    return {
        "id": seq.id_of(i),
        "object": "invoiceitem",
        "amount": unit * quantity,
        "currency": cur,
        "customer": d.pick("customers", created, rng),
        "date": created,
        "description": f"One-off charge {i + 1}",
        "discountable": True,
        "discounts": [],
        "invoice": d.pick("invoices", created, rng) if rng.chance(0.7) else None,
        "livemode": False,
        "metadata": {},
        "net_amount": unit * quantity,
        "parent": None,
        "period": {"end": created, "start": created},
        "pricing": pricing,
        "proration": False,
        "quantity": quantity,
        "tax_rates": [],
        "test_clock": None,
    }


def subscription(d: AccountData, i: int) -> dict[str, Any]:
    from emulators.stripe.generator import price_plan

    seq = d.seq["subscriptions"]
    rng = d.rng("subscriptions", i)
    created = seq.created(i)
    sub_id = seq.id_of(i)
    status = rng.pick(SUBSCRIPTION_STATUSES)
    canceled_at = min(d.end, created + (1 + rng.below(90)) * DAY) if status == "canceled" else None
    prices = d.seq["prices"]
    items = []
    for n in range(1 + rng.below(2)):
        p = d.pick_index("prices", created, rng) or 0
        p = p + 1 if p % 3 == 0 else p  # only recurring prices (p % 3 != 0) can be subscribed to
        p = min(p, prices.base_count - 1)
        price = prices.original(p)
        if price["recurring"] is None:
            continue
        days = PERIOD_DAYS[price["recurring"]["interval"]] * price["recurring"]["interval_count"]
        until = canceled_at or d.end
        start = created + ((until - created) // (days * DAY)) * days * DAY
        items.append(
            {
                "id": d.item_codec.make(i * 4 + n),
                "object": "subscription_item",
                "billing_thresholds": None,
                "created": created,
                "current_period_end": start + days * DAY,
                "current_period_start": start,
                "discounts": [],
                "metadata": {},
                "plan": d.seq["plans"].original(price_plan(p)),
                "price": price,
                "quantity": 1 + rng.below(5),
                "subscription": sub_id,
                "tax_rates": [],
            }
        )
    trial = status == "trialing"
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": canceled_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if canceled_at else None,
        },
        "collection_method": "charge_automatically",
        "created": created,
        "currency": items[0]["price"]["currency"] if items else "usd",
        "customer": d.pick("customers", created, rng),
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": canceled_at,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": created + 14 * DAY if trial else None,
        "trial_start": created if trial else None,
    }
