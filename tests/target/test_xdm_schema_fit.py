"""The mapper only writes what the dataset's schema has, and reports the rest; the validator explains failures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from target_aep.xdm import XdmValidator, build_mapper

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
EVENT_SCHEMA = json.loads((ROOT / "xdm" / "stripe-commerce-event.schema.json").read_text())
PROFILE_SCHEMA = json.loads((ROOT / "xdm" / "stripe-customer-profile.schema.json").read_text())
CHARGES = json.loads((ROOT / "tests" / "data_files" / "stripe_records" / "charges.json").read_text())
CUSTOMERS = json.loads((ROOT / "tests" / "data_files" / "stripe_records" / "customers.json").read_text())


def without(schema: dict, *paths: str) -> dict:
    """A copy of `schema` with the fields at the dotted `paths` removed (and a new `$id`)."""
    edited = copy.deepcopy(schema)
    edited["$id"] = schema["$id"] + "-edited-" + "-".join(paths)
    for path in paths:
        node = edited
        *parents, last = path.split(".")
        for part in parents:
            node = node["properties"][part]
        del node["properties"][last]
    return edited


def test_tenant_fields_missing_from_schema_are_reported_not_emitted() -> None:
    schema = without(EVENT_SCHEMA, "_acme.stripe.customerId", "_acme.stripe.amountRefunded")
    mapper = build_mapper("charges", schema, tenant_id="acme")
    validator = XdmValidator.for_schema(schema)
    for record in CHARGES:
        xdm = mapper.map(record)
        assert validator.errors(xdm) == []
        assert "customerId" not in xdm["_acme"]["stripe"]
        assert "amountRefunded" not in xdm["_acme"]["stripe"]
    assert mapper.unplaced_fields() == {"customer", "amount_refunded"}


def test_standard_field_groups_missing_from_schema_are_reported() -> None:
    schema = without(PROFILE_SCHEMA, "mobilePhone", "homePhone", "shippingAddress")
    mapper = build_mapper("customers", schema, tenant_id="acme")
    xdm = mapper.map(CUSTOMERS[0])
    assert XdmValidator.for_schema(schema).errors(xdm) == []
    assert "mobilePhone" not in xdm and "shippingAddress" not in xdm
    assert {"phone", "shipping"} <= mapper.unplaced_fields()


def test_schema_without_tenant_group_still_maps() -> None:
    schema = without(EVENT_SCHEMA, "_acme")
    mapper = build_mapper("charges", schema, tenant_id="acme")
    xdm = mapper.map(CHARGES[0])
    assert "_acme" not in xdm and XdmValidator.for_schema(schema).errors(xdm) == []
    assert {"metadata", "status", "customer"} <= mapper.unplaced_fields()


def test_values_that_would_break_the_schema_are_dropped() -> None:
    record = {**CHARGES[0], "created": "yesterday"}
    mapper = build_mapper("charges", EVENT_SCHEMA, tenant_id="acme")
    xdm = mapper.map(record)
    assert XdmValidator.for_schema(EVENT_SCHEMA).errors(xdm) == []
    assert "created" not in xdm["_acme"]["stripe"]


def test_an_amount_whose_currency_is_not_iso_4217_is_rejected() -> None:
    # Dropping only the currency would land an amount no one can read (1099 cents? yen?): the sink
    # dead-letters the record with this reason instead.
    mapper = build_mapper("charges", EVENT_SCHEMA, tenant_id="acme")
    with pytest.raises(ValueError, match="without a valid ISO 4217 currency"):
        mapper.map({**CHARGES[0], "currency": "us dollars"})


def test_invalid_record_gives_readable_errors() -> None:
    validator = XdmValidator.for_schema(EVENT_SCHEMA)
    xdm = build_mapper("charges", EVENT_SCHEMA, tenant_id="acme").map(CHARGES[0])
    xdm["commerce"]["order"]["currencyCode"] = "usd"
    xdm["_acme"]["stripe"]["surprise"] = 1
    del xdm["timestamp"]
    xdm["productListItems"] = [{"name": "no SKU"}]
    errors = validator.errors(xdm)
    assert "(record): 'timestamp' is a required property" in errors
    assert "commerce.order.currencyCode: 'usd' does not match '^[A-Z]{3}$'" in errors
    assert any(e.startswith("_acme.stripe: Additional properties are not allowed ('surprise'") for e in errors)
    assert "productListItems[0]: 'SKU' is a required property" in errors


def test_validator_checks_formats_and_is_cached() -> None:
    validator = XdmValidator.for_schema(EVENT_SCHEMA)
    assert XdmValidator.for_schema(EVENT_SCHEMA) is validator
    xdm = build_mapper("charges", EVENT_SCHEMA, tenant_id="acme").map(CHARGES[0])
    assert validator.is_valid(xdm)
    bad = {**xdm, "_id": "not a uri reference", "timestamp": "2024-13-45T99:00:00Z"}
    errors = validator.errors(bad)
    assert any(e.startswith("_id: ") and "uri-reference" in e for e in errors)
    assert any(e.startswith("timestamp: ") and "date-time" in e for e in errors)


def test_malformed_email_is_left_out_of_the_profile() -> None:
    record = {**CUSTOMERS[0], "email": "jenny at example dot com"}
    mapper = build_mapper("customers", PROFILE_SCHEMA, tenant_id="acme")
    xdm = mapper.map(record)
    assert XdmValidator.for_schema(PROFILE_SCHEMA).errors(xdm) == []
    assert "personalEmail" not in xdm and "Email" not in xdm["identityMap"]
    assert "email" in mapper.unplaced_fields()
