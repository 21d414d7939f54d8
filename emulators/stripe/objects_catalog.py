"""Builders for catalog objects: products, prices, plans (legacy mirrors of recurring prices), coupons,
promotion codes. Each builder is a pure function of (account data, index)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.stripe import fake

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

INTERVALS = (("month", 1), ("month", 1), ("year", 1), ("week", 2), ("month", 3))


def product(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["products"]
    rng = d.rng("products", i)
    created = seq.created(i)
    return {
        "id": seq.id_of(i),
        "object": "product",
        "active": not rng.chance(0.1),
        "created": created,
        "default_price": d.seq["prices"].id_of(2 * i) if 2 * i < d.seq["prices"].base_count else None,
        "description": f"Generated product {i + 1}",
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {"sku": f"SKU-{i:06d}"},
        "name": fake.product_name(rng, i),
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def _recurring(rng: Any) -> dict[str, Any]:
    interval, count = rng.pick(INTERVALS)
    return {
        "interval": interval,
        "interval_count": count,
        "meter": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def price(d: AccountData, p: int) -> dict[str, Any]:
    from emulators.stripe.generator import is_recurring_price

    seq = d.seq["prices"]
    rng = d.rng("prices", p)
    cur = fake.currency(rng)
    unit_amount = fake.amount(rng, cur, 5, 200)
    recurring = _recurring(rng) if is_recurring_price(p) else None
    return {
        "id": seq.id_of(p),
        "object": "price",
        "active": not rng.chance(0.05),
        "billing_scheme": "per_unit",
        "created": seq.created(p),
        "currency": cur,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": d.seq["products"].id_of(p // 2),
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import plan_price

    source = d.seq["prices"].original(plan_price(k))
    recurring = source["recurring"]
    return {
        "id": source["id"],
        "object": "plan",
        "active": source["active"],
        "amount": source["unit_amount"],
        "amount_decimal": source["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": source["created"],
        "currency": source["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": source["nickname"],
        "product": source["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def coupon(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["coupons"]
    rng = d.rng("coupons", i)
    percent = rng.chance(0.7)
    cur = "usd"
    duration = rng.pick(("once", "forever", "repeating"))
    return {
        "id": seq.id_of(i),
        "object": "coupon",
        "amount_off": None if percent else fake.amount(rng, cur, 5, 50),
        "created": seq.created(i),
        "currency": None if percent else cur,
        "duration": duration,
        "duration_in_months": 3 if duration == "repeating" else None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": f"Coupon {i + 1}",
        "percent_off": float(5 * (1 + rng.below(10))) if percent else None,
        "redeem_by": None,
        "times_redeemed": rng.below(50),
        "valid": True,
    }


def promotion_code(d: AccountData, k: int) -> dict[str, Any]:
    seq = d.seq["promotion_codes"]
    rng = d.rng("promotion_codes", k)
    return {
        "id": seq.id_of(k),
        "object": "promotion_code",
        "active": not rng.chance(0.1),
        "code": f"SAVE{k:05d}{rng.text(3, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}",
        "created": seq.created(k),
        "customer": None,
        "expires_at": None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "promotion": {"coupon": d.seq["coupons"].id_of(k // 2), "type": "coupon"},
        "restrictions": {
            "first_time_transaction": False,
            "minimum_amount": None,
            "minimum_amount_currency": None,
        },
        "times_redeemed": rng.below(20),
    }
