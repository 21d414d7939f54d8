"""Builders for the billing and customer objects of issue 9 (H8): tax rates, subscription schedules, quotes,
invoice payments, billing meters, and each customer's own lists (payment methods, tax ids, customer balance
transactions). Each builder is a pure function of (account data, index) in the pinned API version's shape.

A customer's lists are not resources of their own in the layout: they are derived from the customer's index
(``customer_children``), so listing one customer's payment methods costs nothing more than building them, and
``POST /_emulator/mutate {"billing": n}`` keeps its changes in ``AccountData.customer_lists``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake
from emulators.stripe.ids import IdCodec, Rng, stable_hash

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
CHILDREN_PER_CUSTOMER = 8  # id index = customer index * 8 + position: decodes back to the customer
CUSTOMER_LISTS = ("payment_methods", "tax_ids", "customer_balance_transactions")
CHILD_PREFIX = {"payment_methods": "pm_", "tax_ids": "txi_", "customer_balance_transactions": "cbtxn_"}
CHILD_OBJECT = {
    "payment_methods": "payment_method",
    "tax_ids": "tax_id",
    "customer_balance_transactions": "customer_balance_transaction",
}
TAX_ID_TYPES = {"US": "us_ein", "DE": "eu_vat", "FR": "eu_vat", "GB": "gb_vat", "JP": "jp_cn", "CA": "ca_bn",
                "KW": "kw_vat"}  # fmt: skip
TAX_RATES = (("VAT", "DE", 19.0, False), ("VAT", "FR", 20.0, True), ("VAT", "GB", 20.0, True),
             ("Sales Tax", "US", 8.625, False), ("GST", "CA", 5.0, False), ("JCT", "JP", 10.0, True),
             ("VAT", "KW", 5.0, False))  # fmt: skip
METER_EVENTS = ("api_requests", "storage_gb_hours", "seats_active", "emails_sent", "tokens", "minutes_transcoded")


def child_codec(d: AccountData, stream: str) -> IdCodec:
    return IdCodec(CHILD_PREFIX[stream], stable_hash(d.salt, stream, "customer_child"))


def customer_children(d: AccountData, stream: str, c: int) -> list[dict[str, Any]]:
    """The current list ``stream`` of customer ``c``, newest first (as Stripe lists them)."""
    changed = d.customer_lists[stream].get(c)
    if changed is not None:
        return changed
    return generated_children(d, stream, c)


def generated_children(d: AccountData, stream: str, c: int) -> list[dict[str, Any]]:
    customers = d.seq["customers"]
    if c >= customers.base_count:
        return []  # customers created by mutations start with empty lists
    rng = d.rng(stream, c)
    cust = customers.original(c)
    # Uneven on purpose: most customers have one card, a quarter none, a few several; balances are rare.
    if stream == "payment_methods":
        count = rng.pick((0, 1, 1, 1, 2, 3))
    elif stream == "tax_ids":
        count = 1 if rng.chance(0.15) else 0
    else:
        count = rng.pick((0,) * 7 + (1, 2, 4))
    span = max(1, d.end - cust["created"])
    created = sorted(cust["created"] + rng.below(span) for _ in range(count))
    build = {"payment_methods": payment_method, "tax_ids": tax_id, "customer_balance_transactions": balance_txn}
    objects: list[dict[str, Any]] = []
    balance = 0
    for k, when in enumerate(created):
        obj = build[stream](d, cust, c * CHILDREN_PER_CUSTOMER + k, when, rng)
        if stream == "customer_balance_transactions":
            obj["ending_balance"] = balance = balance + obj["amount"]
        objects.append(obj)
    objects.reverse()
    return objects


def payment_method(d: AccountData, cust: dict[str, Any], index: int, created: int, rng: Rng) -> dict[str, Any]:
    kind = rng.pick(("card",) * 6 + ("sepa_debit", "us_bank_account"))
    pm: dict[str, Any] = {
        "id": child_codec(d, "payment_methods").make(index),
        "object": "payment_method",
        "allow_redisplay": rng.pick(("always", "limited", "unspecified")),
        "billing_details": {
            "address": cust["address"],
            "email": cust["email"],
            "name": cust["name"],
            "phone": cust["phone"],
            "tax_id": None,
        },
        "created": created,
        "customer": cust["id"],
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": kind,
    }
    if kind == "card":
        card = fake.card(rng)
        card["funding"] = rng.pick(("credit", "credit", "debit", "prepaid"))
        card["network"] = card["brand"] if card["brand"] != "amex" else "amex"
        pm["card"] = {
            "brand": card["brand"],
            "checks": {"address_line1_check": None, "address_postal_code_check": "pass", "cvc_check": "pass"},
            "country": card["country"],
            "display_brand": card["brand"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": rng.text(16),
            "funding": card["funding"],
            "generated_from": None,
            "last4": card["last4"],
            "networks": {"available": [card["network"]], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }
    elif kind == "sepa_debit":
        pm["sepa_debit"] = {
            "bank_code": "37040044",
            "branch_code": None,
            "country": "DE",
            "fingerprint": rng.text(16),
            "generated_from": None,
            "last4": f"{rng.below(10000):04d}",
        }
    else:
        pm["us_bank_account"] = {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": "STRIPE TEST BANK",
            "financial_connections_account": None,
            "fingerprint": rng.text(16),
            "last4": f"{rng.below(10000):04d}",
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": None,
        }
    return pm


def tax_id(d: AccountData, cust: dict[str, Any], index: int, created: int, rng: Rng) -> dict[str, Any]:
    country = cust["address"]["country"]
    kind = TAX_ID_TYPES.get(country, "eu_vat")
    value = f"{country}{rng.below(10**9):09d}" if kind.endswith("vat") else f"{rng.below(10**9):09d}"
    return {
        "id": child_codec(d, "tax_ids").make(index),
        "object": "tax_id",
        "country": country,
        "created": created,
        "customer": cust["id"],
        "customer_account": None,
        "livemode": False,
        "owner": {"account": None, "application": None, "customer": cust["id"], "type": "customer"},
        "type": kind,
        "value": value,
        "verification": {
            "status": rng.pick(("verified", "verified", "pending", "unavailable")),
            "verified_address": None,
            "verified_name": None,
        },
    }


def balance_txn(d: AccountData, cust: dict[str, Any], index: int, created: int, rng: Rng) -> dict[str, Any]:
    cur = cust["currency"]
    kind = rng.pick(("adjustment", "adjustment", "applied_to_invoice", "credit_note", "initial"))
    # Negative is a credit the customer holds, positive a debt (Stripe's sign convention).
    amount = fake.amount(rng, cur, 1, 120) * (1 if kind == "applied_to_invoice" else -1)
    return {
        "id": child_codec(d, "customer_balance_transactions").make(index),
        "object": "customer_balance_transaction",
        "amount": amount,
        "checkout_session": None,
        "created": created,
        "credit_note": None,
        "currency": cur,
        "customer": cust["id"],
        "customer_account": None,
        "description": {"adjustment": "Goodwill credit", "initial": "Starting balance"}.get(kind),
        "ending_balance": 0,  # set by the caller: the running balance
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "type": kind,
    }


def tax_rate(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["tax_rates"]
    rng = d.rng("tax_rates", i)
    name, country, percentage, inclusive = TAX_RATES[i % len(TAX_RATES)]
    return {
        "id": seq.id_of(i),
        "object": "tax_rate",
        "active": not rng.chance(0.15),
        "country": country,
        "created": seq.created(i),
        "description": f"{name} {country} {percentage:g}%",
        "display_name": name,
        "effective_percentage": percentage,
        "flat_amount": None,
        "inclusive": inclusive,
        "jurisdiction": country,
        "jurisdiction_level": "country",
        "livemode": False,
        "metadata": {},
        "percentage": percentage,
        "rate_type": "percentage",
        "state": "NY" if country == "US" else None,
        "tax_type": {"VAT": "vat", "GST": "gst", "JCT": "jct", "Sales Tax": "sales_tax"}[name],
    }


def subscription_schedule(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["subscription_schedules"]
    rng = d.rng("subscription_schedules", i)
    created = seq.created(i)
    # By position, so even a small account has schedules in every state (and one to release).
    status = ("active", "not_started", "completed", "released", "active", "canceled")[i % 6]
    sub = d.pick("subscriptions", created, rng) if status in ("active", "released", "completed") else None
    price = d.pick("prices", created, rng)
    start = created + (7 * DAY if status == "not_started" else 0)
    end = start + (1 + rng.below(12)) * 30 * DAY
    phase = {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": None,
        "billing_thresholds": None,
        "collection_method": None,
        "currency": "usd",
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "end_date": end,
        "invoice_settings": None,
        "items": [{"discounts": [], "metadata": {}, "price": price, "quantity": 1 + rng.below(3), "tax_rates": []}],
        "metadata": {},
        "on_behalf_of": None,
        "proration_behavior": "create_prorations",
        "start_date": start,
        "transfer_data": None,
        "trial_end": None,
    }
    return {
        "id": seq.id_of(i),
        "object": "subscription_schedule",
        "application": None,
        "canceled_at": created + DAY if status == "canceled" else None,
        "completed_at": min(end, d.end) if status == "completed" else None,
        "created": created,
        "current_phase": {"end_date": end, "start_date": start} if status == "active" else None,
        "customer": d.pick("customers", created, rng),
        "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": None,
            "collection_method": "charge_automatically",
            "default_payment_method": None,
            "description": None,
            "invoice_settings": {"account_tax_ids": None, "days_until_due": None, "issuer": {"type": "self"}},
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": rng.pick(("release", "cancel")),
        "livemode": False,
        "metadata": {},
        "phases": [phase],
        "released_at": created + 2 * DAY if status == "released" else None,
        "released_subscription": sub if status == "released" else None,
        "status": status,
        "subscription": sub if status != "released" else None,
        "test_clock": None,
    }


def quote(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["quotes"]
    rng = d.rng("quotes", i)
    created = seq.created(i)
    qt_id = seq.id_of(i)
    cur = fake.currency(rng)
    status = ("draft", "open", "accepted", "draft", "accepted", "canceled", "open")[i % 7]
    amount = fake.amount(rng, cur, 50, 5000)
    return {
        "id": qt_id,
        "object": "quote",
        "amount_subtotal": amount,
        "amount_total": amount,
        "application": None,
        "application_fee_amount": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "collection_method": "charge_automatically",
        "computed": {
            "recurring": None,
            "upfront": {
                "amount_subtotal": amount,
                "amount_total": amount,
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            },
        },
        "created": created,
        "currency": cur,
        "customer": d.pick("customers", created, rng),
        "customer_account": None,
        "default_tax_rates": [],
        "description": f"Quote for {1 + rng.below(40)} seats",
        "discounts": [],
        "expires_at": created + 30 * DAY,
        "footer": None,
        "from_quote": None,
        "header": None,
        "invoice": None,
        "invoice_settings": {"days_until_due": None, "issuer": {"type": "self"}},
        "livemode": False,
        "metadata": {},
        "number": None if status == "draft" else f"QT-{i + 1:05d}",
        "on_behalf_of": None,
        "status": status,
        "status_transitions": {
            "accepted_at": created + 2 * DAY if status == "accepted" else None,
            "canceled_at": created + 5 * DAY if status == "canceled" else None,
            "finalized_at": None if status == "draft" else created + 3600,
        },
        "subscription": None,
        "subscription_data": {
            "billing_mode": {"flexible": None, "type": "classic"},
            "description": None,
            "effective_date": None,
            "metadata": None,
            "trial_period_days": None,
        },
        "subscription_schedule": None,
        "test_clock": None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "transfer_data": None,
    }


def invoice_payment(d: AccountData, k: int) -> dict[str, Any]:
    """The payment record of invoice ``k``: paid with the invoice, open while it is, canceled when voided."""
    seq = d.seq["invoice_payments"]
    inv = d.seq["invoices"].original(k)
    created = seq.created(k)
    status = {"paid": "paid", "open": "open"}.get(inv["status"], "canceled")
    pi = "pi_" + inv["id"][3:] if status == "paid" else None
    return {
        "id": seq.id_of(k),
        "object": "invoice_payment",
        "amount_paid": inv["amount_paid"] if status == "paid" else None,
        "amount_requested": inv["amount_due"],
        "created": created,
        "currency": inv["currency"],
        "invoice": inv["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"charge": None, "payment_intent": pi, "payment_record": None, "type": "payment_intent"},
        "status": status,
        "status_transitions": {
            "canceled_at": created + DAY if status == "canceled" else None,
            "paid_at": created if status == "paid" else None,
        },
    }


def billing_meter(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["billing_meters"]
    rng = d.rng("billing_meters", i)
    created = seq.created(i)
    event_name = f"{METER_EVENTS[i % len(METER_EVENTS)]}{'' if i < len(METER_EVENTS) else f'_{i}'}"
    inactive = rng.chance(0.2)
    return {
        "id": seq.id_of(i),
        "object": "billing.meter",
        "created": created,
        "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
        "default_aggregation": {"formula": rng.pick(("sum", "count", "last"))},
        "display_name": event_name.replace("_", " ").title(),
        "event_name": event_name,
        "event_time_window": rng.pick((None, "day", "hour")),
        "livemode": False,
        "status": "inactive" if inactive else "active",
        "status_transitions": {"deactivated_at": created + 10 * DAY if inactive else None},
        "updated": created,
        "value_settings": {"event_payload_key": "value"},
    }
