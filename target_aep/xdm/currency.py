"""Stripe minor units -> major units, per currency, and which codes are ISO 4217 currencies at all.

Stripe sends amounts as integers in the currency's smallest unit. Most currencies have two decimals, but
Stripe lists exceptions. Source: Stripe docs, "Supported currencies" -> "Zero-decimal currencies" and
"Three-decimal currencies" (https://docs.stripe.com/currencies#zero-decimal, #three-decimal), checked against
ISO 4217 minor units. XDM `currencyCode` fields want the ISO 4217 code in upper case (`^[A-Z]{3}$`).

An amount can only be converted (and means anything in AEP) in a real currency, so `ISO_4217_CODES` is checked in
here rather than trusting any three letters: a code Stripe never issues (`usdollars`, `xyz`) makes the record's
amounts meaningless and the record goes to the dead-letter file (`commerce.unconvertible_amount`). A table of a
few hundred bytes, no library: the candidates (`pycountry`, `iso4217`) bring megabytes of names and translations or
lag behind the maintenance agency, and nothing here may reach the network at run time.
"""

from __future__ import annotations

# ISO 4217 List One, "Current currency & funds code list", published by the ISO 4217 maintenance agency (SIX
# Financial Information, https://www.six-group.com/en/products-services/financial-information/data-standards.html,
# list-one.xml), as of 2026: includes ZWG (2024), XCG (2025, replacing ANG) and XAD; BGN and ANG have moved to
# List Three. Funds codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAG, XAU, XPD, XPT) and
# the units of account (XBA..XBD, XDR, XSU, XUA, XAD) are kept: they are real codes a ledger can hold. Left out:
# XXX ("transactions where no currency is involved") and XTS ("reserved for testing"): an amount in either has no
# unit anyone can convert.
_LIST_ONE = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE
    CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR
    LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC
    XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG
"""
ACTIVE_ISO_4217_CODES = frozenset(_LIST_ONE.split())

# Withdrawn since 2018 (ISO 4217 List Three) but present in Stripe accounts' history, which the tap backfills: a
# 2022 charge in HRK is real money with two decimals, not an unknown unit. MRO, STD, VEF (2018), CUC (2021),
# HRK (2023, euro), SLL (2024, SLE), ZWL (2024, ZWG), ANG (2025, XCG), BGN (2026, euro).
WITHDRAWN_ISO_4217_CODES = frozenset({"ANG", "BGN", "CUC", "HRK", "MRO", "SLL", "STD", "VEF", "ZWL"})

ISO_4217_CODES = ACTIVE_ISO_4217_CODES | WITHDRAWN_ISO_4217_CODES

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
    divisor = _DIVISORS.get(currency)  # Stripe's own lower-case codes: one look-up (the table is built below)
    if divisor is not None:
        return divisor
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 1
    if code in THREE_DECIMAL_CURRENCIES:
        return 1000
    return 100


# `minor_unit_divisor` of every ISO code in Stripe's lower case, built from the rule above (every amount converted
# asks for it).
_DIVISORS: dict[str, int] = {}
_DIVISORS.update({code.lower(): minor_unit_divisor(code.lower()) for code in ISO_4217_CODES})


def minor_to_major(amount: int | float | None, currency: str | None) -> float | int | None:
    """Convert a Stripe amount in minor units to major units (`1099, "usd"` -> `10.99`).

    Returns None when either input is missing: an amount without a currency has no meaning in XDM.
    Zero-decimal amounts stay integers; others are rounded to the currency's decimals so that
    binary floating point never shows as `10.990000000000002`.
    """
    if amount is None or not currency or isinstance(amount, bool):
        return None
    divisor = _DIVISORS.get(currency) if type(currency) is str else None  # `minor_unit_divisor`'s table
    if divisor is None:
        divisor = minor_unit_divisor(currency)
    if divisor == 1:
        return amount
    return round(amount / divisor, 3 if divisor == 1000 else 2)


def is_iso_4217(currency: object) -> bool:
    """True for an ISO 4217 currency code in any case (`usd`, `USD`), False for anything else."""
    if type(currency) is str and currency in _CODE_OF:  # a code as Stripe writes it (or upper case): one look-up
        return True
    return isinstance(currency, str) and currency.upper() in ISO_4217_CODES


def currency_code(currency: str | None) -> str | None:
    """Stripe's lower-case code -> the ISO 4217 upper-case code XDM expects, or None if it is not one."""
    if type(currency) is str:
        code = _CODE_OF.get(currency)  # a code already seen as Stripe writes it: one look-up
        if code is not None:
            return code
    if not currency or not isinstance(currency, str):
        return None
    code = currency.upper()
    return code if code in ISO_4217_CODES else None  # `xyz` is three letters, not a currency: no unit, no code


# `currency_code` of every ISO code in lower and upper case, built from the rule above.
_CODE_OF: dict[str, str] = {}
_CODE_OF.update({spelling: code for code in ISO_4217_CODES for spelling in (code, code.lower())})


class AmountWithoutCurrencyError(ValueError):
    """A record holds an amount but no valid currency: it is dead-lettered, never landed without one."""
