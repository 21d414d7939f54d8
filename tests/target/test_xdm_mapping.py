"""Every stream's sample Stripe records map to XDM that both validators accept, with the right values."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator, FormatChecker

from tap_stripe_aep.stream_catalog import STREAMS_BY_NAME
from target_aep.xdm import XdmValidator, build_mapper
from target_aep.xdm.stream_classes import RECORD_STREAMS

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "data_files" / "stripe_records"
SCHEMAS = {
    name: json.loads((ROOT / "xdm" / f"stripe-{name}.schema.json").read_text())
    for name in ("customer-profile", "commerce-event", "catalog-record")
}
CATALOG_STREAMS = set(RECORD_STREAMS)
ALL_STREAMS = sorted(p.stem for p in RECORDS.glob("*.json"))
NS = "StripeCustomerId"


def schema_for(stream: str) -> dict[str, Any]:
    if stream == "customers":
        return SCHEMAS["customer-profile"]
    return SCHEMAS["catalog-record"] if stream in CATALOG_STREAMS else SCHEMAS["commerce-event"]


def records(stream: str) -> list[dict[str, Any]]:
    return json.loads((RECORDS / f"{stream}.json").read_text())


def by_id(stream: str, record_id: str) -> dict[str, Any]:
    return next(r for r in records(stream) if r["id"] == record_id)


def mapped(stream: str, record_id: str) -> dict[str, Any]:
    return build_mapper(stream, schema_for(stream), tenant_id="acme").map(by_id(stream, record_id))


# --- issue 9: H9 (after merging every group's samples, this can become `set(ALL_STREAMS) == set(STREAMS_BY_NAME)`)
H9_STREAMS = {
    "checkout_session_line_items", "payment_links", "shipping_rates", "setup_attempts", "files", "file_links",
    "early_fraud_warnings", "reviews", "issuing_authorizations", "issuing_cardholders", "issuing_cards",
    "issuing_disputes", "issuing_transactions",
}  # fmt: skip


def test_every_interface_stream_has_samples() -> None:
    assert sorted(ALL_STREAMS) == sorted(STREAMS_BY_NAME)
    for stream in ALL_STREAMS:
        assert 2 <= len(records(stream)) <= 3, stream


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_samples_pass_both_validators(stream: str) -> None:
    schema = schema_for(stream)
    mapper = build_mapper(stream, schema, tenant_id="acme")
    reference = Draft6Validator(schema, format_checker=FormatChecker())
    validator = XdmValidator.for_schema(schema)
    expected_class = {"customers": "profile"}.get(stream, "record" if stream in CATALOG_STREAMS else "experienceevent")
    assert mapper.xdm_class == expected_class
    for record in records(stream):
        xdm = mapper.map(record)
        assert validator.errors(xdm) == [], (stream, record["id"])
        assert [e.message for e in reference.iter_errors(xdm)] == [], (stream, record["id"])
        assert xdm["_acme"]["stripe"]["id"] == record["id"]
        assert xdm["_acme"]["stripe"]["account"] == record["account_id"]
        assert len(json.dumps(xdm)) < 10_000  # the event guardrail, for every class
        if expected_class == "experienceevent":
            assert xdm["timestamp"] == record["updated"]
            assert xdm["eventType"]
    assert mapper.unplaced_fields() == set()  # the fixture schemas have a place for everything mapped


def test_customer_profile_fields_and_identities() -> None:
    xdm = mapped("customers", "cus_PqA1b2C3d4E5f6")
    assert xdm["identityMap"] == {
        NS: [{"id": "cus_PqA1b2C3d4E5f6", "primary": True, "authenticatedState": "authenticated"}],
        "Email": [{"id": "jenny.rosen@example.com", "primary": False, "authenticatedState": "ambiguous"}],
    }
    assert xdm["person"]["name"] == {"fullName": "Jenny Rosen", "firstName": "Jenny", "lastName": "Rosen"}
    assert xdm["personalEmail"]["address"] == "Jenny.Rosen@example.com"
    assert xdm["mobilePhone"]["number"] == "+14155550123"
    assert xdm["homeAddress"] == {
        "street1": "510 Townsend St",
        "street2": "Suite 200",
        "city": "San Francisco",
        "postalCode": "94103",
        "countryCode": "US",
        "stateProvince": "US-CA",
    }
    assert xdm["shippingAddress"]["city"] == "South San Francisco"
    assert xdm["_acme"]["stripe"]["metadata"] == {"crm_id": "0031U00001XyZabQAE", "plan_tier": "gold"}


def test_business_customer_keeps_free_text_state_in_region() -> None:
    xdm = mapped("customers", "cus_PqT0ky0Yamada01")
    assert "person" not in xdm  # a business name is not a person's name
    assert xdm["_acme"]["stripe"]["name"] == "Yamada Shoten K.K."
    assert xdm["homeAddress"]["region"] == "Tokyo" and "stateProvince" not in xdm["homeAddress"]


def test_deleted_customer_is_an_upsert_marked_deleted() -> None:
    xdm = mapped("customers", "cus_PqDe1eTed0000x")
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["identityMap"][NS][0]["id"] == "cus_PqDe1eTed0000x"


def test_currency_exponents_and_codes() -> None:
    usd = mapped("charges", "ch_3PqUsd0000000001")["commerce"]["order"]
    jpy = mapped("charges", "ch_3PqJpy0000000002")["commerce"]["order"]
    kwd = mapped("charges", "ch_3PqKwd0000000003")["commerce"]["order"]
    assert (usd["priceTotal"], usd["currencyCode"], usd["payments"][0]["paymentAmount"]) == (10.99, "USD", 10.99)
    assert (jpy["priceTotal"], jpy["currencyCode"], jpy["refundTotal"]) == (5000, "JPY", 5000)
    assert (kwd["priceTotal"], kwd["currencyCode"]) == (12.345, "KWD")
    assert kwd["payments"][0]["paymentType"] == "debit_card"
    assert usd["payments"][0] == {
        "transactionID": "ch_3PqUsd0000000001",
        "paymentAmount": 10.99,
        "paymentType": "credit_card",
        "currencyCode": "USD",
    }


def test_charge_event_joins_the_profile() -> None:
    xdm = mapped("charges", "ch_3PqUsd0000000001")
    assert xdm["eventType"] == "commerce.purchases"
    assert xdm["commerce"]["purchases"] == {"value": 1}
    assert xdm["identityMap"][NS] == [
        {"id": "cus_PqA1b2C3d4E5f6", "primary": True, "authenticatedState": "authenticated"}
    ]
    stripe = xdm["_acme"]["stripe"]
    assert (stripe["amount"], stripe["currency"], stripe["paymentIntentId"]) == (1099, "usd", "pi_3PqUsd0000000001")
    assert mapped("charges", "ch_3PqJpy0000000002")["eventType"] == "commerce.backofficeOrderCancelled"


def test_guest_charge_keeps_its_email_as_a_secondary_identity() -> None:
    xdm = mapped("charges", "ch_3PqKwd0000000003")
    assert NS not in xdm["identityMap"]
    assert xdm["identityMap"]["Email"][0]["id"] == "customer@example.com.kw"
    assert xdm["identityMap"]["Email"][0]["primary"] is False


def test_invoice_lines_become_product_list_items() -> None:
    xdm = mapped("invoices", "in_1PqInvoicePaid001")
    assert xdm["eventType"] == "commerce.purchases"
    assert xdm["productListItems"] == [
        {
            "SKU": "price_1PqGoldMonthly01",
            "name": "2 \u00d7 Gold Plan (at $10.00 / month)",
            "quantity": 2,
            "priceTotal": 20.0,
            "currencyCode": "USD",
        },
        {
            "SKU": "price_1PqSetupFee0001",
            "name": "Onboarding fee",
            "quantity": 1,
            "priceTotal": 49.99,
            "currencyCode": "USD",
        },
    ]
    order = xdm["commerce"]["order"]
    assert (order["priceTotal"], order["purchaseOrderNumber"]) == (69.99, "A1B2C3D4-0003")
    assert xdm["_acme"]["stripe"]["subscriptionId"] == "sub_1PqSubGold000001"
    open_invoice = mapped("invoices", "in_1PqInvoiceOpen002")["commerce"]["order"]
    assert (open_invoice["taxAmount"], open_invoice["currencyCode"]) == (1.5, "EUR")


def test_refunds_and_deletions_event_types() -> None:
    refund = mapped("refunds", "re_3PqJpy0000000002")
    assert refund["eventType"] == "commerce.backofficeCreditMemoIssued"
    assert refund["commerce"]["order"]["refunds"] == [
        {"transactionID": "re_3PqJpy0000000002", "refundAmount": 5000, "currencyCode": "JPY"}
    ]
    assert mapped("subscription_items", "si_PqOldSeat0000002")["eventType"] == "commerce.productListRemovals"
    assert mapped("events", "evt_1PqCustUpdated0001")["eventType"] == "stripe.customer.updated"
    assert mapped("events", "evt_1PqCustUpdated0001")["identityMap"][NS][0]["id"] == "cus_PqA1b2C3d4E5f6"
    assert mapped("checkout_sessions", "cs_test_b1PqCheckoutExpired2")["commerce"]["cartAbandons"] == {"value": 1}


def test_an_item_removed_from_its_subscription_maps_and_validates() -> None:
    # What the tap emits for a child gone from its parent: no `deleted`, no price, only the parent's id.
    record = {
        "id": "si_PqRemovedSeat0003",
        "object": "subscription_item",
        "subscription": "sub_1PqSubGold000001",
        "updated": "2024-03-02T00:00:00Z",
        "account_id": "acct_emulator_platform",
        "is_deleted": True,
    }
    schema = SCHEMAS["commerce-event"]
    xdm = build_mapper("subscription_items", schema, tenant_id="acme").map(record)
    assert XdmValidator.for_schema(schema).errors(xdm) == []
    assert [e.message for e in Draft6Validator(schema, format_checker=FormatChecker()).iter_errors(xdm)] == []
    assert (xdm["eventType"], xdm["timestamp"]) == ("commerce.productListRemovals", "2024-03-02T00:00:00Z")
    assert xdm["commerce"]["productListRemovals"] == {"value": 1}
    stripe = xdm["_acme"]["stripe"]
    assert (stripe["id"], stripe["subscriptionId"], stripe["account"]) == (
        "si_PqRemovedSeat0003",
        "sub_1PqSubGold000001",
        "acct_emulator_platform",
    )
    assert stripe["deleted"] is True


def test_catalog_record_and_deleted_product() -> None:
    product = mapped("products", "prod_PqGoldPlan00001")
    assert set(product) == {"_id", "_acme"}
    assert product["_acme"]["stripe"]["priceId"] == "price_1PqGoldMonthly01"
    assert product["_acme"]["stripe"]["status"] == "active"
    gone = mapped("products", "prod_PqRetired000002")
    assert gone["_acme"]["stripe"]["deleted"] is True
    coupon = mapped("coupons", "KWD5OFF")["_acme"]["stripe"]
    assert (coupon["amount"], coupon["currency"], coupon["status"]) == (5000, "kwd", "valid")


def test_event_id_follows_the_version_record_id_follows_the_object() -> None:
    record = by_id("charges", "ch_3PqUsd0000000001")
    mapper = build_mapper("charges", SCHEMAS["commerce-event"], tenant_id="acme")
    first, again = mapper.map(record), mapper.map(copy.deepcopy(record))
    assert first["_id"] == again["_id"]
    later = mapper.map({**record, "updated": "2024-03-18T00:00:00Z"})
    deleted = mapper.map({**record, "is_deleted": True})
    other_account = mapper.map({**record, "account_id": "acct_other"})
    assert len({first["_id"], later["_id"], deleted["_id"], other_account["_id"]}) == 4

    customer = by_id("customers", "cus_PqA1b2C3d4E5f6")
    profile = build_mapper("customers", SCHEMAS["customer-profile"], tenant_id="acme")
    assert profile.map(customer)["_id"] == profile.map({**customer, "updated": "2025-01-01T00:00:00Z"})["_id"]


def test_class_follows_the_dataset_schema_not_the_stream() -> None:
    charge = by_id("charges", "ch_3PqUsd0000000001")
    as_record = build_mapper("charges", SCHEMAS["catalog-record"], tenant_id="acme")
    assert as_record.xdm_class == "record"
    xdm = as_record.map(charge)
    assert set(xdm) == {"_id", "_acme"} and XdmValidator.for_schema(SCHEMAS["catalog-record"]).errors(xdm) == []

    as_profile = build_mapper("charges", SCHEMAS["customer-profile"], tenant_id="acme")
    xdm = as_profile.map(charge)
    assert xdm["identityMap"][NS][0]["id"] == "cus_PqA1b2C3d4E5f6"
    assert XdmValidator.for_schema(SCHEMAS["customer-profile"]).errors(xdm) == []

    customer = by_id("customers", "cus_PqA1b2C3d4E5f6")
    as_event = build_mapper("customers", SCHEMAS["commerce-event"], tenant_id="acme")
    xdm = as_event.map(customer)
    assert xdm["eventType"] == "stripe.customer.updated"
    assert XdmValidator.for_schema(SCHEMAS["commerce-event"]).errors(xdm) == []


@pytest.mark.parametrize("schema_name", sorted(SCHEMAS))
def test_generic_mapping_for_an_unknown_stream(schema_name: str) -> None:
    record = {
        "id": "tax_rate_1PqVat15",
        "object": "tax_rate",
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T00:00:00Z",
        "is_deleted": False,
        "account_id": "acct_emulator_platform",
        "display_name": "VAT",
        "percentage": 15.0,
        "metadata": {"region": "EU", "count": 3, "flag": True},
        "livemode": False,
    }
    schema = SCHEMAS[schema_name]
    xdm = build_mapper("tax_rates", schema, tenant_id="acme").map(record)
    assert XdmValidator.for_schema(schema).errors(xdm) == []
    assert xdm["_acme"]["stripe"]["objectType"] == "tax_rate"
    assert xdm["_acme"]["stripe"]["metadata"] == {"region": "EU", "count": "3", "flag": "true"}
    if schema_name == "commerce-event":
        assert xdm["eventType"] == "stripe.tax_rate.created"


def test_long_text_and_huge_metadata_stay_within_the_event_guardrail() -> None:
    record = by_id("charges", "ch_3PqUsd0000000001")
    record = {
        **record,
        "description": "x" * 50_000,
        "metadata": {f"key_{i:02d}": "v" * 500 for i in range(50)},
        "amount": 2**60,  # beyond XDM long: dropped from the tenant block, not a rejected record
    }
    mapper = build_mapper("charges", SCHEMAS["commerce-event"], tenant_id="acme")
    xdm = mapper.map(record)
    assert XdmValidator.for_schema(SCHEMAS["commerce-event"]).errors(xdm) == []
    assert len(json.dumps(xdm)) < 10_000
    assert len(xdm["_acme"]["stripe"]["description"]) == 1000
    assert "amount" not in xdm["_acme"]["stripe"]
    assert {"amount", "metadata.key_49"} <= mapper.unplaced_fields()


def test_xdm_uuid5_matches_the_standard_library_on_varied_names() -> None:
    """The hand-rolled `_id` hash (for speed) is exactly `uuid.uuid5` under the XDM namespace."""
    import random
    import uuid

    from target_aep.xdm.identities import XDM_ID_NAMESPACE, xdm_uuid5

    rng = random.Random(7)
    alphabet = "abcXYZ019_/-:.é€😀 "
    names = ["", "charges/acct_1/ch_1/2024-01-01T00:00:00Z/live"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    for name in names:
        assert xdm_uuid5(name) == str(uuid.uuid5(XDM_ID_NAMESPACE, name)), name


def test_connect_money_lands_in_major_units_with_its_currency() -> None:
    fee = records("application_fees")[0]
    order = mapped("application_fees", fee["id"])["commerce"]["order"]
    assert order["purchaseID"] == fee["charge"]
    assert (order["priceTotal"], order["currencyCode"]) == (fee["amount"] / 100, fee["currency"].upper())
    top_up = next(r for r in records("top_ups") if r["currency"] == "jpy")
    order = mapped("top_ups", top_up["id"])["commerce"]["order"]
    assert (order["priceTotal"], order["currencyCode"]) == (top_up["amount"], "JPY")  # yen have no minor unit
    reversal = records("transfer_reversals")[0]
    order = mapped("transfer_reversals", reversal["id"])["commerce"]["order"]
    assert order["purchaseID"] == reversal["transfer"]
    assert order["refunds"][0]["refundAmount"] == reversal["amount"] / 100
    account = records("accounts")[0]
    assert mapped("accounts", account["id"])["_acme"]["stripe"]["name"] == account["business_profile"]["name"]


def test_an_amount_without_a_currency_is_rejected_not_landed() -> None:
    mapper = build_mapper("top_ups", schema_for("top_ups"), tenant_id="acme")
    record = dict(records("top_ups")[0], currency=None)
    with pytest.raises(ValueError, match="without a valid ISO 4217 currency"):
        mapper.map(record)


def test_billing_and_customer_streams_of_issue_9() -> None:
    # A customer balance credit in KWD (three decimals): money on the customer's balance, on their profile.
    cbt = mapped("customer_balance_transactions", "cbtxn_AS0V6YhzWm62jeoGT0lOAr5e")
    assert cbt["commerce"]["order"]["priceTotal"] == 61.642
    assert cbt["commerce"]["order"]["currencyCode"] == "KWD"
    assert cbt["identityMap"][NS][0]["id"] == "cus_ln0keLZxoaxM0euid63SiVOt"
    # An invoice payment: the payment of the invoice it pays, in its currency.
    payment = mapped("invoice_payments", "inpay_sQ0Vdyu5vVdbDIuqsCHIKa8b")["commerce"]["order"]
    assert payment["purchaseID"] == "in_iO01Oo9olTp0MVgVFNamgwkt"
    assert payment["payments"][0] == {
        "transactionID": "pi_iO01Oo9olTp0MVgVFNamgwkt",
        "paymentAmount": 264.07,
        "paymentType": "other",
        "currencyCode": "KWD",
    }
    # A quote: its total as an order, open quotes keep Stripe's state in the event type.
    quote = mapped("quotes", "qt_Db02AQgOE0VkW1WnvWERk27X")
    assert (quote["commerce"]["order"]["priceTotal"], quote["eventType"]) == (3479.36, "stripe.quote.open")
    # A credit note line in JPY (no minor unit), carrying its credit note's currency.
    line = mapped("credit_note_line_items", "cnli_QX0lywbqQpMhm9Gc1uy4S6Wk")
    assert line["commerce"]["order"]["refundTotal"] == 23977
    assert line["eventType"] == "commerce.backofficeCreditMemoIssued"
    # A payment method joins its customer's profile; a detached one keeps the billing e-mail as identity.
    method = mapped("payment_methods", "pm_wd0QYvz2MLNIrACn8rWoFGbQ")
    assert method["identityMap"][NS][0]["id"] == "cus_ln0keLZxp0Kbcsfp4CU2SGIP"
    assert "commerce" not in method
    detached = records("payment_methods")[2]
    assert detached["is_deleted"] and detached["customer"] is None
    gone = build_mapper("payment_methods", schema_for("payment_methods"), tenant_id="acme").map(detached)
    assert gone["eventType"] == "stripe.payment_method.deleted"
    assert gone["identityMap"]["Email"][0]["id"] == detached["billing_details"]["email"]
    # Reference objects are lookup records.
    rate = mapped("tax_rates", "txr_6Z0lK3CV6h5jBRzlEJ2XKiVl")
    assert set(rate) == {"_id", "_acme"} and rate["_acme"]["stripe"]["objectType"] == "tax_rate"
    schedule = mapped("subscription_schedules", "sub_sched_830YkGG38I6XFgyA9wxmv0Xu")
    assert schedule["eventType"] == "stripe.subscription_schedule.released"


def test_an_amount_without_its_currency_is_refused_for_the_new_money_streams() -> None:
    record = {**by_id("customer_balance_transactions", "cbtxn_AS0V6YhzWm62jeoGT0lOAr5e"), "currency": None}
    stream = "customer_balance_transactions"
    mapper = build_mapper(stream, schema_for(stream), tenant_id="acme")
    with pytest.raises(ValueError, match="ISO 4217"):
        mapper.map(record)


# --- issue 9: H9
def test_issuing_money_in_major_units_with_its_currency() -> None:
    capture = mapped("issuing_transactions", "ipi_VD0ksQA2VsQkXctjfHxwFpFZ")  # -89470 JPY: a capture spends
    order = capture["commerce"]["order"]
    assert (order["priceTotal"], order["currencyCode"], order["purchaseID"]) == (
        89470,
        "JPY",
        "iauth_5n0lqdpN77MuKATJ52Zz21HH",
    )
    assert order["payments"][0] == {
        "transactionID": "ipi_VD0ksQA2VsQkXctjfHxwFpFZ",
        "paymentAmount": 89470,
        "paymentType": "debit_card",
        "currencyCode": "JPY",
    }
    assert capture["_acme"]["stripe"]["amount"] == -89470 and capture["_acme"]["stripe"]["currency"] == "jpy"
    authorization = mapped("issuing_authorizations", "iauth_5n0lqdpN5nAmFrUclYgztVjt")["commerce"]["order"]
    assert (authorization["priceTotal"], authorization["currencyCode"]) == (84.61, "USD")  # merchant_amount 8461
    won = mapped("issuing_disputes", "idp_qB0j53eMqG09UNZYCylHtqDE")
    assert won["commerce"]["order"]["refundTotal"] == 111.46 and won["eventType"] == "stripe.issuing.dispute.won"
    submitted = mapped("issuing_disputes", "idp_qB0j53eMqHP6ChyfpVnY4rRn")["commerce"]["order"]
    assert "refundTotal" not in submitted  # no money back until the dispute is won


def test_checkout_lines_reviews_and_reference_objects() -> None:
    line = mapped("checkout_session_line_items", "li_EI2n3hgGwPQFce0")
    assert line["eventType"] == "commerce.productListAdds"
    assert line["commerce"]["order"] == {
        "purchaseID": "cs_test_d80igabYd9EI2n3hgGwPQFce",
        "priceTotal": 21834,
        "currencyCode": "JPY",
    }
    assert line["productListItems"][0]["SKU"] == "price_YR0g7WduYR0Lmroztl4NopnC"
    assert mapped("reviews", "prv_x00bON4Kx0Nbt4o7vJYIjcu8")["eventType"] in (
        "stripe.review.opened",
        "stripe.review.closed",
    )
    assert {mapped("reviews", r["id"])["eventType"] for r in records("reviews")} == {
        f"stripe.review.{'opened' if r['open'] else 'closed'}" for r in records("reviews")
    }
    # a shipping rate is a lookup record; its amount lands only with its own (nested) currency
    rate = mapped("shipping_rates", "shr_vC0QqTrMvCRitPZH3KGA7I2j")["_acme"]["stripe"]
    assert (rate["amount"], rate["currency"]) == (3559, "eur")
    assert mapped("setup_attempts", "setatt_Sq0EnUtVSrblpk2y6izAJuOa")["identityMap"][NS][0]["primary"] is True
