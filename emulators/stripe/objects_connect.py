"""Builders for Connect and balance objects: application fees (with their refunds), top-ups, transfer reversals,
and the connected accounts themselves with their persons and external (bank) accounts. Each builder is a pure
function of (account data, index), in the shapes of the pinned API version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake
from emulators.stripe.ids import Rng, stable_hash

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
FEE_EVERY, FEE_AT = 6, 2  # an application fee on every 6th charge of the platform
FEE_REFUND_EVERY = 4  # one fee in 4 has been refunded (in part)
REVERSAL_EVERY = 5  # one transfer in 5 has been reversed (in part)


def application_fee(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.objects_payments import charge_money

    seq = d.seq["application_fees"]
    fee_id = seq.id_of(k)
    created = seq.created(k)
    j = k * FEE_EVERY + FEE_AT
    _, cur, amount = charge_money(d, j)
    fee = max(1, amount // 10)
    refund_at = min(created + DAY, d.end)
    refunds = [application_fee_refund(fee_id, cur, max(1, fee // 3), refund_at)] if k % FEE_REFUND_EVERY == 1 else []
    refunded = sum(r["amount"] for r in refunds)
    destinations = d.destinations or ["acct_emulator_destination"]
    return {
        "id": fee_id,
        "object": "application_fee",
        "account": destinations[k % len(destinations)],
        "amount": fee,
        "amount_refunded": refunded,
        "application": "ca_" + d.codec("application_fees").tag + "EmulatorPlatformApp0",
        "balance_transaction": None,
        "charge": d.seq["charges"].id_of(j),
        "created": created,
        "currency": cur,
        "fee_source": {"charge": d.seq["charges"].id_of(j), "type": "charge"},
        "livemode": False,
        "originating_transaction": None,
        "refunded": bool(refunds) and refunded >= fee,
        "refunds": _list(refunds, f"/v1/application_fees/{fee_id}/refunds"),
    }


def application_fee_refund(fee_id: str, currency: str, amount: int, created: int) -> dict[str, Any]:
    return {
        "id": "fr_" + fee_id[len("fee_") :],
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": None,
        "created": created,
        "currency": currency,
        "fee": fee_id,
        "metadata": {},
    }


def topup(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["top_ups"]
    rng = d.rng("top_ups", i)
    created = seq.created(i)
    cur = fake.currency(rng)
    status = rng.pick(("succeeded", "succeeded", "succeeded", "pending", "failed", "canceled"))
    return {
        "id": seq.id_of(i),
        "object": "topup",
        "amount": fake.amount(rng, cur, 500, 50_000),
        "balance_transaction": None,
        "created": created,
        "currency": cur,
        "description": "Top-up for payouts" if rng.chance(0.5) else None,
        "expected_availability_date": created + 5 * DAY,
        "failure_code": "insufficient_funds" if status == "failed" else None,
        "failure_message": "The bank account has insufficient funds." if status == "failed" else None,
        "livemode": False,
        "metadata": {},
        "source": None,
        "statement_descriptor": None,
        "status": status,
        "transfer_group": None,
    }


def transfer_reversal(tr_id: str, index: int, currency: str, amount: int, created: int) -> dict[str, Any]:
    return {
        "id": f"trr_{tr_id[len('tr_') :]}{index}",
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": None,
        "created": created,
        "currency": currency,
        "destination_payment_refund": None,
        "metadata": {},
        "source_refund": None,
        "transfer": tr_id,
    }


def transfer_reversals(
    tr_id: str, i: int, currency: str, amount: int, created: int, latest: int
) -> list[dict[str, Any]]:
    """The reversals a generated transfer has: one in ``REVERSAL_EVERY`` was reversed by a third, a day later."""
    if i % REVERSAL_EVERY != 1:
        return []
    return [transfer_reversal(tr_id, 0, currency, max(1, amount // 3), min(created + DAY, latest))]


# ---- connected accounts (listed by the platform) ---------------------------------------------------------------


def external_accounts(account: str, seed: int) -> list[dict[str, Any]]:
    rng = Rng(stable_hash(seed, account, "external_accounts"))
    country, currency = rng.pick((("US", "usd"), ("DE", "eur"), ("GB", "gbp"), ("JP", "jpy"), ("KW", "kwd")))
    count = 1 + rng.below(2)
    return [
        {
            "id": f"ba_{account[len('acct_') :]}{n}",
            "object": "bank_account",
            "account": account,
            "account_holder_name": None,
            "account_holder_type": "company",
            "account_type": None,
            "available_payout_methods": ["standard"],
            "bank_name": rng.pick(("STRIPE TEST BANK", "DEUTSCHE BANK", "MUFG BANK", "NBK")),
            "country": country,
            "currency": currency,
            "default_for_currency": n == 0,
            "fingerprint": rng.text(16),
            "last4": f"{rng.below(10000):04d}",
            "metadata": {},
            "routing_number": "110000000" if country == "US" else None,
            "status": "verified" if n == 0 else "new",
        }
        for n in range(count)
    ]


def persons(account: str, seed: int, created: int) -> list[dict[str, Any]]:
    rng = Rng(stable_hash(seed, account, "persons"))
    count = 1 + rng.below(3)
    found = []
    for n in range(count):
        name, email = fake.person(rng)
        first, _, last = name.partition(" ")
        found.append(
            {
                "id": f"person_{account[len('acct_') :]}{n}",
                "object": "person",
                "account": account,
                "address": fake.address(rng),
                "created": created + n * 3600,
                "email": email,
                "first_name": first,
                "last_name": last,
                "metadata": {},
                "relationship": {
                    "director": n == 0,
                    "executive": n == 0,
                    "owner": n < 2,
                    "percent_ownership": None,
                    "representative": n == 0,
                    "title": "CEO" if n == 0 else None,
                },
                "requirements": {"currently_due": [], "eventually_due": [], "past_due": [], "pending_verification": []},
                "verification": {"status": "verified" if n == 0 else "pending"},
            }
        )
    return found


def _list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


def embedded_list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return _list(data, url)
