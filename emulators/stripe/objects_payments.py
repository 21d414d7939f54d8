"""Builders for money movement: payment intents and their charges (1:1 by index), refunds, disputes, payouts,
transfers and balance transactions. Each builder is a pure function of (account data, index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake
from emulators.stripe.ids import Rng

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400


def charge_money(d: AccountData, j: int) -> tuple[Rng, str, int]:
    """The rng, currency and amount a charge and its payment intent share (drawn first, in this order)."""
    rng = d.rng("charges", j)
    cur = fake.currency(rng)
    return rng, cur, fake.amount(rng, cur)


def _charge_core(d: AccountData, j: int) -> tuple[Rng, int, str, int, str | None, bool]:
    from emulators.stripe.generator import FAILED_AT, FAILED_EVERY

    rng, cur, amt = charge_money(d, j)
    created = d.seq["charges"].created(j)
    customer = d.pick("customers", created, rng) if rng.chance(0.9) else None
    return rng, created, cur, amt, customer, j % FAILED_EVERY == FAILED_AT


def refund_amount(charge_amount: int, k: int) -> int:
    return charge_amount if k % 3 else max(1, charge_amount // 2)


def charge(d: AccountData, j: int) -> dict[str, Any]:
    from emulators.stripe.generator import DISPUTE_AT, DISPUTE_EVERY, REFUND_AT, REFUND_EVERY, TXN_CHARGE

    rng, created, cur, amt, customer, failed = _charge_core(d, j)
    refund_k = j // REFUND_EVERY if j % REFUND_EVERY == REFUND_AT else None
    refunded = refund_amount(amt, refund_k) if refund_k is not None and refund_k < d.seq["refunds"].base_count else 0
    dispute_k = j // DISPUTE_EVERY if j % DISPUTE_EVERY == DISPUTE_AT else None
    disputed = dispute_k is not None and dispute_k < d.seq["disputes"].base_count
    name, email = fake.person(rng)
    card = fake.card(rng)
    return {
        "id": d.seq["charges"].id_of(j),
        "object": "charge",
        "amount": amt,
        "amount_captured": 0 if failed else amt,
        "amount_refunded": refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": d.txn_id(TXN_CHARGE, j),
        "billing_details": {"address": fake.address(rng), "email": email, "name": name, "phone": None},
        "calculated_statement_descriptor": "EMULATOR* STORE",
        "captured": not failed,
        "created": created,
        "currency": cur,
        "customer": customer,
        "description": f"Order {j + 1000}",
        "disputed": disputed,
        "failure_balance_transaction": None,
        "failure_code": "card_declined" if failed else None,
        "failure_message": "Your card was declined." if failed else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {"order_id": str(j + 1000)},
        "on_behalf_of": None,
        "outcome": {
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": "generic_decline" if failed else None,
            "risk_level": "normal",
            "risk_score": rng.below(100),
            "seller_message": "The bank did not return any further details." if failed else "Payment complete.",
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": not failed,
        "payment_intent": d.seq["payment_intents"].id_of(j),
        "payment_method": "pm_" + rng.text(24),
        "payment_method_details": {"card": card, "type": "card"},
        "receipt_email": email,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/emulator/{j}",
        "refunded": refunded == amt,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "failed" if failed else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def payment_intent(d: AccountData, j: int) -> dict[str, Any]:
    rng, created, cur, amt, customer, failed = _charge_core(d, j)
    pi_id = d.seq["payment_intents"].id_of(j)
    error = {"code": "card_declined", "message": "Your card was declined.", "type": "card_error"}
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amt,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0 if failed else amt,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{rng.text(24)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": cur,
        "customer": customer,
        "description": f"Order {j + 1000}",
        "last_payment_error": error if failed else None,
        "latest_charge": d.seq["charges"].id_of(j) if j < d.seq["charges"].base_count else None,
        "livemode": False,
        "metadata": {"order_id": str(j + 1000)},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None if failed else "pm_" + rng.text(24),
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method" if failed else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import REFUND_AT, REFUND_EVERY, TXN_REFUND

    j = k * REFUND_EVERY + REFUND_AT
    _, cur, amt = charge_money(d, j)
    return {
        "id": d.seq["refunds"].id_of(k),
        "object": "refund",
        "amount": refund_amount(amt, k),
        "balance_transaction": d.txn_id(TXN_REFUND, k),
        "charge": d.seq["charges"].id_of(j),
        "created": d.seq["refunds"].created(k),
        "currency": cur,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {},
        "payment_intent": d.seq["payment_intents"].id_of(j),
        "reason": ("requested_by_customer", "duplicate", "fraudulent")[k % 3],
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def dispute(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import DISPUTE_AT, DISPUTE_EVERY

    j = k * DISPUTE_EVERY + DISPUTE_AT
    rng, cur, amt = charge_money(d, j)
    created = d.seq["disputes"].created(k)
    return {
        "id": d.seq["disputes"].id_of(k),
        "object": "dispute",
        "amount": amt,
        "balance_transactions": [],
        "charge": d.seq["charges"].id_of(j),
        "created": created,
        "currency": cur,
        "evidence": {"customer_email_address": None, "product_description": None, "uncategorized_text": None},
        "evidence_details": {
            "due_by": created + 21 * DAY,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": d.seq["payment_intents"].id_of(j),
        "reason": ("fraudulent", "product_not_received", "duplicate")[k % 3],
        "status": ("needs_response", "under_review", "won", "lost")[rng.below(4)],
    }


def payout(d: AccountData, i: int) -> dict[str, Any]:
    from emulators.stripe.generator import TXN_PAYOUT

    rng = d.rng("payouts", i)
    created = d.seq["payouts"].created(i)
    return {
        "id": d.seq["payouts"].id_of(i),
        "object": "payout",
        "amount": fake.amount(rng, "usd", 100, 20_000),
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": created + 2 * DAY,
        "automatic": True,
        "balance_transaction": d.txn_id(TXN_PAYOUT, i),
        "created": created,
        "currency": "usd",
        "description": "STRIPE PAYOUT",
        "destination": "ba_" + d.codec("payouts").tag + "EmulatorBank0000000000",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "reconciliation_status": "completed",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "paid",
        "trace_id": None,
        "type": "bank_account",
    }


def transfer(d: AccountData, i: int) -> dict[str, Any]:
    from emulators.stripe.objects_connect import transfer_reversals

    rng = d.rng("transfers", i)
    tr_id = d.seq["transfers"].id_of(i)
    destinations = d.destinations or ["acct_emulator_destination"]
    amount = fake.amount(rng, "usd", 10, 1_000)
    created = d.seq["transfers"].created(i)
    reversals = transfer_reversals(tr_id, i, "usd", amount, created, d.end)
    return {
        "id": tr_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": sum(r["amount"] for r in reversals),
        "balance_transaction": None,
        "created": created,
        "currency": "usd",
        "description": None,
        "destination": destinations[i % len(destinations)],
        "destination_payment": "py_" + rng.text(24),
        "livemode": False,
        "metadata": {},
        "reversals": {
            "object": "list",
            "data": reversals,
            "has_more": False,
            "total_count": len(reversals),
            "url": f"/v1/transfers/{tr_id}/reversals",
        },
        "reversed": False,
        "source_transaction": None,
        "source_type": "card",
        "transfer_group": None,
    }


def txn(d: AccountData, t: int) -> dict[str, Any]:
    from emulators.stripe.generator import TXN_CHARGE, TXN_REFUND

    kind, source = d.txn_kind[t], d.txn_source[t]
    created = d.txn_created[t]
    if kind == TXN_CHARGE:
        _, cur, amt = charge_money(d, source)
        fee = int(amt * 0.029) + (30 if cur in ("usd", "eur", "gbp", "cad") else 0)
        kind_name, source_id = "charge", d.seq["charges"].id_of(source)
    elif kind == TXN_REFUND:
        ref = refund(d, source)
        cur, amt, fee = ref["currency"], -ref["amount"], 0
        kind_name, source_id = "refund", ref["id"]
    else:
        po = payout(d, source)
        cur, amt, fee = po["currency"], -po["amount"], 0
        kind_name, source_id = "payout", po["id"]
    fee_details = [
        {
            "amount": fee,
            "application": None,
            "currency": cur,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    return {
        "id": d.seq["balance_transactions"].id_of(t),
        "object": "balance_transaction",
        "amount": amt,
        "available_on": created + 2 * DAY,
        "balance_type": "payments",
        "created": created,
        "currency": cur,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details if fee else [],
        "net": amt - fee,
        "reporting_category": kind_name,
        "source": source_id,
        "status": "available",
        "type": kind_name,
    }
