"""Stripe minor units -> major units, per currency.

Stripe sends amounts as integers in the currency's smallest unit. Most currencies have two decimals, but
Stripe lists exceptions. Source: Stripe docs, "Supported currencies" -> "Zero-decimal currencies" and
"Three-decimal currencies" (https://docs.stripe.com/currencies#zero-decimal, #three-decimal), checked against
ISO 4217 minor units. XDM `currencyCode` fields want the ISO 4217 code in upper case (`^[A-Z]{3}$`).
"""

from __future__ import annotations

# Amounts in these currencies are already whole units: 500 JPY is sent as 500.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip

# Amounts in these currencies have three decimals: 5.124 KWD is sent as 5124.
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def minor_unit_divisor(currency: str) -> int:
    """How many minor units make one major unit of `currency` (a Stripe code, any case)."""
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 1
    if code in THREE_DECIMAL_CURRENCIES:
        return 1000
    return 100


def minor_to_major(amount: int | float | None, currency: str | None) -> float | int | None:
    """Convert a Stripe amount in minor units to major units (`1099, "usd"` -> `10.99`).

    Returns None when either input is missing: an amount without a currency has no meaning in XDM.
    Zero-decimal amounts stay integers; others are rounded to the currency's decimals so that
    binary floating point never shows as `10.990000000000002`.
    """
    if amount is None or not currency or isinstance(amount, bool):
        return None
    divisor = minor_unit_divisor(currency)
    if divisor == 1:
        return amount
    return round(amount / divisor, 3 if divisor == 1000 else 2)


def currency_code(currency: str | None) -> str | None:
    """Stripe's lower-case code -> the ISO 4217 upper-case code XDM expects, or None if it is not one."""
    if not currency or not isinstance(currency, str):
        return None
    code = currency.upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else None
