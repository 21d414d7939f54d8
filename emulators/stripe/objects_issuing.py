"""Builders for Stripe Issuing: cardholders, cards, authorizations, transactions, disputes (pure functions of
(account data, index)), in the pinned API version's shapes. Cards embed their cardholder and authorizations
their card, as Stripe does; transactions and disputes refer by id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
MERCHANTS = (
    ("Blue Bottle Coffee", "5814", "eating_places_restaurants", "Oakland", "US"),
    ("Lufthansa", "3008", "airlines_air_carriers", "Frankfurt", "DE"),
    ("AWS", "4816", "computer_network_services", "Seattle", "US"),
    ("Uniqlo Ginza", "5651", "family_clothing_stores", "Tokyo", "JP"),
    ("Alshaya Retail", "5311", "department_stores", "Kuwait City", "KW"),
    ("WeWork", "6513", "real_estate_agents_and_managers_rentals", "London", "GB"),
)


def cardholder(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["issuing_cardholders"]
    rng = d.rng("issuing_cardholders", i)
    created = seq.created(i)
    name, email = fake.person(rng)
    address = fake.address(rng)
    company = rng.chance(0.2)
    return {
        "id": seq.id_of(i),
        "object": "issuing.cardholder",
        "billing": {"address": address},
        "company": {"tax_id_provided": True} if company else None,
        "created": created,
        "email": email,
        "individual": None
        if company
        else {
            "card_issuing": {"user_terms_acceptance": {"date": created, "ip": "198.51.100.7", "user_agent": None}},
            "dob": None,
            "first_name": name.split()[0],
            "last_name": name.split()[-1],
            "verification": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone_number": fake.phone(rng),
        "preferred_locales": [rng.pick(("en", "de", "fr", "es"))],
        "requirements": {"disabled_reason": None, "past_due": []},
        "spending_controls": {
            "allowed_categories": None,
            "allowed_merchant_countries": None,
            "blocked_categories": None,
            "blocked_merchant_countries": None,
            "spending_limits": [{"amount": 500_000, "categories": None, "interval": "monthly"}],
            "spending_limits_currency": "usd",
        },
        "status": "inactive" if rng.chance(0.1) else "active",
        "type": "company" if company else "individual",
    }


def card(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["issuing_cards"]
    rng = d.rng("issuing_cards", i)
    created = seq.created(i)
    holder_index = d.pick_index("issuing_cardholders", created, rng) or 0
    holder = d.seq["issuing_cardholders"].original(holder_index)
    cur = "usd" if holder["billing"]["address"]["country"] == "US" else fake.currency(rng)
    virtual = rng.chance(0.7)
    status = rng.pick(("active", "active", "active", "inactive", "canceled"))
    return {
        "id": seq.id_of(i),
        "object": "issuing.card",
        "brand": "Visa",
        "cancellation_reason": "lost" if status == "canceled" else None,
        "cardholder": holder,
        "created": created,
        "currency": cur,
        "exp_month": 1 + rng.below(12),
        "exp_year": 2028 + rng.below(4),
        "financial_account": None,
        "last4": f"{rng.below(10000):04d}",
        "latest_fraud_warning": None,
        "livemode": False,
        "metadata": {},
        "personalization_design": None,
        "replaced_by": None,
        "replacement_for": None,
        "replacement_reason": None,
        "second_line": None,
        "shipping": None,
        "spending_controls": {
            "allowed_categories": None,
            "allowed_merchant_countries": None,
            "blocked_categories": None,
            "blocked_merchant_countries": None,
            "spending_limits": [],
            "spending_limits_currency": None,
        },
        "status": status,
        "type": "virtual" if virtual else "physical",
        "wallets": {
            "apple_pay": {"eligible": True, "ineligible_reason": None},
            "google_pay": {"eligible": True, "ineligible_reason": None},
            "primary_account_identifier": None,
        },
    }


def _merchant(rng: Any) -> dict[str, Any]:
    name, code, category, city, country = rng.pick(MERCHANTS)
    return {
        "category": category,
        "category_code": code,
        "city": city,
        "country": country,
        "name": name,
        "network_id": f"{rng.below(10**9):09d}",
        "postal_code": None,
        "state": None,
        "tax_id": None,
        "terminal_id": None,
        "url": None,
    }


def authorization_core(d: AccountData, i: int) -> tuple[Any, int, dict[str, Any], str, int, bool]:
    """(rng, created, card, currency, amount, approved): what an authorization and its transaction share."""
    rng = d.rng("issuing_authorizations", i)
    created = d.seq["issuing_authorizations"].created(i)
    card_index = d.pick_index("issuing_cards", created, rng) or 0
    issued = d.seq["issuing_cards"].original(card_index)
    from emulators.stripe.generator import TRANSACTION_EVERY

    cur = issued["currency"]
    declined = rng.chance(0.15) and i % TRANSACTION_EVERY != 0  # a captured authorization was approved
    return rng, created, issued, cur, fake.amount(rng, cur, 2.0, 900.0), not declined


def authorization(d: AccountData, i: int) -> dict[str, Any]:
    from emulators.stripe.generator import TRANSACTION_EVERY

    seq = d.seq["issuing_authorizations"]
    rng, created, issued, cur, amt, approved = authorization_core(d, i)
    k = i // TRANSACTION_EVERY
    captured = i % TRANSACTION_EVERY == 0 and k < d.seq["issuing_transactions"].base_count
    status = "closed" if captured or not approved else "pending"
    merchant = _merchant(rng)
    return {
        "id": seq.id_of(i),
        "object": "issuing.authorization",
        "amount": amt if status == "pending" else 0,
        "amount_details": {"atm_fee": None, "cashback_amount": None},
        "approved": approved,
        "authorization_method": rng.pick(("online", "online", "chip", "contactless")),
        "balance_transactions": [],
        "card": issued,
        "cardholder": issued["cardholder"]["id"],
        "created": created,
        "currency": cur,
        "fleet": None,
        "fuel": None,
        "livemode": False,
        "merchant_amount": amt,
        "merchant_currency": cur,
        "merchant_data": merchant,
        "metadata": {},
        "network_data": {"acquiring_institution_id": None, "system_trace_audit_number": None, "transaction_id": None},
        "pending_request": None,
        "request_history": [
            {
                "amount": amt,
                "amount_details": {"atm_fee": None, "cashback_amount": None},
                "approved": approved,
                "authorization_code": None,
                "created": created,
                "currency": cur,
                "merchant_amount": amt,
                "merchant_currency": cur,
                "network_risk_score": rng.below(100),
                "reason": "webhook_approved" if approved else "spending_controls",
                "reason_message": None,
                "requested_at": created,
            }
        ],
        "status": status,
        "token": None,
        "transactions": [transaction(d, k)] if captured else [],  # embedded, as Stripe does
        "treasury": None,
        "verification_data": {
            "address_line1_check": "not_provided",
            "address_postal_code_check": "match",
            "authentication_exemption": None,
            "cvc_check": "match",
            "expiry_check": "match",
            "postal_code": None,
            "three_d_secure": None,
        },
        "wallet": None,
    }


def transaction(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import TRANSACTION_EVERY

    seq = d.seq["issuing_transactions"]
    auth_index = k * TRANSACTION_EVERY
    rng, _, issued, cur, amt, _ = authorization_core(d, auth_index)
    refund = k % 17 == 9  # now and then a merchant refund: money back to the card
    return {
        "id": seq.id_of(k),
        "object": "issuing.transaction",
        "amount": amt if refund else -amt,
        "amount_details": {"atm_fee": None, "cashback_amount": None},
        "authorization": d.seq["issuing_authorizations"].id_of(auth_index),
        "balance_transaction": None,
        "card": issued["id"],
        "cardholder": issued["cardholder"]["id"],
        "created": seq.created(k),
        "currency": cur,
        "dispute": None,
        "livemode": False,
        "merchant_amount": amt if refund else -amt,
        "merchant_currency": cur,
        "merchant_data": _merchant(rng),
        "metadata": {},
        "network_data": {
            "authorization_code": f"{rng.below(10**6):06d}",
            "processing_date": None,
            "transaction_id": None,
        },
        "purchase_details": None,
        "token": None,
        "treasury": None,
        "type": "refund" if refund else "capture",
        "wallet": None,
    }


def dispute(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import ISSUING_DISPUTE_AT, ISSUING_DISPUTE_EVERY

    seq = d.seq["issuing_disputes"]
    tx = d.seq["issuing_transactions"].original(k * ISSUING_DISPUTE_EVERY + ISSUING_DISPUTE_AT)
    rng = d.rng("issuing_disputes", k)
    status = rng.pick(("submitted", "won", "lost", "unsubmitted", "expired"))
    return {
        "id": seq.id_of(k),
        "object": "issuing.dispute",
        "amount": abs(tx["amount"]),
        "balance_transactions": [],
        "created": seq.created(k),
        "currency": tx["currency"],
        "evidence": {
            "canceled": None,
            "duplicate": None,
            "fraudulent": {"additional_documentation": None, "explanation": "Card was not present."},
            "merchandise_not_as_described": None,
            "no_valid_authorization": None,
            "not_received": None,
            "other": None,
            "reason": "fraudulent",
            "service_not_as_described": None,
        },
        "livemode": False,
        "loss_reason": "cardholder_authentication_issuer_liability" if status == "lost" else None,
        "metadata": {},
        "status": status,
        "transaction": tx["id"],
        "treasury": None,
    }
