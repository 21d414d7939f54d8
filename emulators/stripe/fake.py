"""Realistic-looking values (names, addresses, currencies, amounts) drawn from a seeded :class:`Rng`."""

from __future__ import annotations

from typing import Any

from emulators.stripe.ids import Rng

FIRST = ("Ada", "Ben", "Chloe", "Diego", "Emma", "Farah", "Goro", "Hana", "Ivan", "Jade", "Kofi", "Lena",
         "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Zoe")  # fmt: skip
LAST = ("Okafor", "Tanaka", "Garcia", "Smith", "Muller", "Rossi", "Dubois", "Kowalski", "Nguyen", "Silva",
        "Haddad", "Ivanova", "Larsen", "Moreau", "Patel", "Khan", "Berg", "Costa", "Sato", "Walker")  # fmt: skip
CITIES = (("San Francisco", "CA", "US", "94107"), ("Berlin", None, "DE", "10115"), ("London", None, "GB", "EC1A 1BB"),
          ("Tokyo", None, "JP", "100-0001"), ("Toronto", "ON", "CA", "M5H 2N2"), ("Paris", None, "FR", "75001"),
          ("Kuwait City", None, "KW", "13001"), ("Austin", "TX", "US", "73301"))  # fmt: skip
STREETS = ("Market St", "Main St", "Hauptstrasse", "High St", "Rue de Rivoli", "King St W", "Oak Ave", "Elm St")
PRODUCT_WORDS = ("Pro", "Team", "Starter", "Enterprise", "Analytics", "Storage", "Seats", "Support", "API", "Cloud")
# (currency, weight, minor-unit multiplier): JPY has no minor unit, KWD has three decimals
CURRENCIES = (("usd", 70, 100), ("eur", 12, 100), ("gbp", 8, 100), ("jpy", 5, 1), ("cad", 4, 100), ("kwd", 1, 1000))
_CURRENCY_TABLE = [c for c, weight, _ in CURRENCIES for _ in range(weight)]
_MINOR = {c: m for c, _, m in CURRENCIES}
COUNTRY_CURRENCY = {"US": "usd", "DE": "eur", "GB": "gbp", "JP": "jpy", "CA": "cad", "FR": "eur", "KW": "kwd"}


def person(rng: Rng) -> tuple[str, str]:
    first, last = rng.pick(FIRST), rng.pick(LAST)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}{rng.below(1000)}@example.com"


def phone(rng: Rng) -> str:
    return f"+1415555{rng.below(10000):04d}"


def address(rng: Rng) -> dict[str, Any]:
    city, state, country, postal = rng.pick(CITIES)
    return {
        "city": city,
        "country": country,
        "line1": f"{1 + rng.below(999)} {rng.pick(STREETS)}",
        "line2": None,
        "postal_code": postal,
        "state": state,
    }


def currency(rng: Rng) -> str:
    return _CURRENCY_TABLE[rng.below(len(_CURRENCY_TABLE))]


def amount(rng: Rng, cur: str, low: float = 5.0, high: float = 500.0) -> int:
    """An amount in the currency's smallest unit (cents, yen, fils)."""
    major = low + (high - low) * rng.below(10_000) / 10_000
    if cur == "jpy":
        major *= 100  # a yen is about a cent
    return max(1, int(major * _MINOR[cur]))


def product_name(rng: Rng, i: int) -> str:
    return f"{rng.pick(PRODUCT_WORDS)} {rng.pick(PRODUCT_WORDS)} {i + 1}"


def card(rng: Rng) -> dict[str, Any]:
    return {
        "brand": rng.pick(("visa", "mastercard", "amex")),
        "country": rng.pick(("US", "DE", "GB", "JP")),
        "exp_month": 1 + rng.below(12),
        "exp_year": 2027 + rng.below(5),
        "funding": "credit",
        "last4": f"{rng.below(10000):04d}",
        "network": "visa",
    }
