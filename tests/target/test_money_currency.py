"""Money never lands without its currency (issue 11): a record whose amount is in a missing or non-ISO 4217
currency goes to the dead-letter file with the field and the value, never to AEP; everything else lands as before."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from target_aep.xdm.commerce import MONEY_FIELDS, NESTED_MONEY_FIELDS, unconvertible_amount
from target_aep.xdm.currency import (
    ACTIVE_ISO_4217_CODES,
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    is_iso_4217,
)
from target_aep.xdm.stripe_fields import _AMOUNT_FIELDS
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    DATASET_BY_CLASS,
    datasets_setting,
    run_target,
    singer_messages,
)

pytestmark = pytest.mark.timeout(90)
EVENTS = DATASET_BY_CLASS["experienceevent"]
PROFILES = DATASET_BY_CLASS["profile"]


def test_the_iso_4217_table() -> None:
    assert all(is_iso_4217(code) for code in ("usd", "EUR", "jpy", "KWD", "XCG", "ZWG", "hrk"))
    for not_a_currency in ("usdollars", "US", "XXX", "xts", "ZZZ", "", None, 840, "\uff35\uff33\uff24"):
        assert not is_iso_4217(not_a_currency), not_a_currency
    assert len(ACTIVE_ISO_4217_CODES) == 176  # List One, less XXX and XTS
    assert all(is_iso_4217(code) for code in ZERO_DECIMAL_CURRENCIES | THREE_DECIMAL_CURRENCIES)
    # A money total the mapping lands (`_{tenant}.stripe.amount`) is one the currency check covers.
    nested = {f"{field}.amount" for field in NESTED_MONEY_FIELDS}
    assert set(_AMOUNT_FIELDS.values()) <= set(MONEY_FIELDS) | nested


@pytest.mark.parametrize(
    ("stream", "record", "reason"),
    [
        ("charges", {"amount": 1500, "currency": "usdollars"}, "currency 'usdollars' is not an ISO 4217 code: "
         "the amount 1500 cannot be converted"),
        ("refunds", {"amount": 0, "currency": None}, "currency is missing: the amount 0 cannot be converted"),
        ("prices", {"unit_amount": 900, "currency": "dollars"}, "currency 'dollars' is not an ISO 4217 code: "
         "the amount 900 cannot be converted"),
        ("subscriptions", {"currency": "usd", "items": {"data": [{"price": {"unit_amount": 7, "currency": "abc"}}]}},
         "items.data[0].price.currency 'abc' is not an ISO 4217 code: the amount 7 of items.data[0] cannot be "
         "converted"),
        ("subscription_items", {"price": {"unit_amount": 7}}, "currency is missing: the amount 7 cannot be converted"),
        ("customers", {"balance": 0, "currency": "usdollars"}, None),  # no amount the mapping lands
        ("coupons", {"percent_off": 10, "amount_off": None, "currency": None}, None),
        ("charges", {"amount": 1500, "currency": "HRK"}, None),  # withdrawn in 2023, still real money in history
        ("shipping_rates", {"fixed_amount": {"amount": 500, "currency": "eur"}}, None),
        ("shipping_rates", {"fixed_amount": {"amount": 500, "currency": "euro"}}, "fixed_amount.currency 'euro' is "
         "not an ISO 4217 code: the amount 500 of fixed_amount cannot be converted"),
        # The record's valid currency passes its own amounts, not a nested one's or a line's (checked apart).
        ("shipping_rates", {"amount": 5, "currency": "usd", "fixed_amount": {"amount": 500, "currency": "euro"}},
         "fixed_amount.currency 'euro' is not an ISO 4217 code: the amount 500 of fixed_amount cannot be converted"),
        ("charges", {"amount": None, "amount_refunded": 5, "currency": "usdollars"}, "currency 'usdollars' is not an "
         "ISO 4217 code: the amount 5 cannot be converted"),  # the first amount present is the one named
    ],
)  # fmt: skip
def test_which_records_have_unconvertible_money(stream: str, record: dict, reason: str | None) -> None:
    assert unconvertible_amount(stream, record) == reason


def with_money(messages: list[dict], source_id: str, new_id: str, change: Callable[[dict], object]) -> dict:
    """A copy of the sample record ``source_id`` as ``new_id``, changed by ``change``, added after its stream's."""
    source = next(m for m in messages if m["type"] == "RECORD" and m["record"]["id"] == source_id)
    message = copy.deepcopy(source)
    message["record"]["id"] = new_id
    change(message["record"])
    messages.insert(messages.index(source) + 1, message)
    return message["record"]


def test_money_in_an_unknown_currency_is_dead_lettered_and_the_rest_lands(aep: AEP, tmp_path: Path) -> None:
    streams = ["charges", "customers", "invoices"]
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") in streams or m["type"] == "STATE"]
    with_money(
        messages,
        "ch_3PqUsd0000000001",
        "ch_usdollars",
        lambda r: r.update(amount=1500, currency="usdollars"),
    )
    with_money(messages, "ch_3PqUsd0000000001", "ch_nocurrency", lambda r: r.update(currency=None))
    with_money(
        messages,
        "in_1PqInvoicePaid001",
        "in_badline",
        lambda r: r["lines"]["data"][0].update(currency="usdx"),
    )
    customer = next(m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "customers")
    customer["currency"] = "usdollars"  # a customer carries no amount: it lands as before
    before = {dataset: len(aep.landed(dataset)) for dataset in (EVENTS, PROFILES)}

    run = run_target(
        aep.config(tmp_path, datasets=datasets_setting(streams)),
        "".join(json.dumps(m) + "\n" for m in messages),
        tmp_path,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    entries = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert {e["id"]: (e["stream"], e["reasons"]) for e in entries} == {
        "ch_usdollars": (
            "charges",
            ["currency 'usdollars' is not an ISO 4217 code: the amount 1500 cannot be converted"],
        ),
        "ch_nocurrency": ("charges", ["currency is missing: the amount 1099 cannot be converted"]),
        "in_badline": (
            "invoices",
            ["lines.data[0].currency 'usdx' is not an ISO 4217 code: the amount 2000 of lines.data[0] cannot be "
             "converted"],
        ),
    }  # fmt: skip
    assert all(e["record"]["id"] == e["id"] for e in entries)  # the Stripe record as received, to replay

    events = aep.landed(EVENTS)[before[EVENTS] :]
    orders = {e["_acme"]["stripe"]["id"]: e.get("commerce", {}).get("order") for e in events}
    assert not {"ch_usdollars", "ch_nocurrency", "in_badline"} & set(orders)
    assert (orders["ch_3PqUsd0000000001"]["priceTotal"], orders["ch_3PqUsd0000000001"]["currencyCode"]) == (
        10.99,
        "USD",
    )
    assert (orders["ch_3PqJpy0000000002"]["priceTotal"], orders["ch_3PqJpy0000000002"]["currencyCode"]) == (5000, "JPY")
    assert (orders["ch_3PqKwd0000000003"]["priceTotal"], orders["ch_3PqKwd0000000003"]["currencyCode"]) == (
        12.345,
        "KWD",
    )
    assert all(order is None or "priceTotal" not in order or order.get("currencyCode") for order in orders.values())
    profiles = [p["_acme"]["stripe"]["id"] for p in aep.landed(PROFILES)[before[PROFILES] :]]
    assert customer["id"] in profiles

    assert "stream charges: received 5, landed 3, rejected 2" in run.stderr
    assert "stream invoices: received 3, landed 2, rejected 1" in run.stderr
