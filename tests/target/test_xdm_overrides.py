"""The `mappings` setting: declarative overrides, checked against the schema at build time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from target_aep.xdm import MappingConfigError, XdmValidator, build_mapper

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
EVENT_SCHEMA = json.loads((ROOT / "xdm" / "stripe-commerce-event.schema.json").read_text())
CATALOG_SCHEMA = json.loads((ROOT / "xdm" / "stripe-catalog-record.schema.json").read_text())
CHARGES = json.loads((ROOT / "tests" / "data_files" / "stripe_records" / "charges.json").read_text())
USD, JPY, KWD = CHARGES


def test_fields_event_type_and_exclude() -> None:
    override = {
        "event_type": {"succeeded": "commerce.checkouts", "*": "stripe.charge.other"},
        "fields": {
            "commerce.order.purchaseOrderNumber": "metadata.order_id",
            "_acme.stripe.description": "billing_details.address.city | upper",
            "commerce.order.taxAmount": {"source": "amount_captured", "transform": "minor_to_major"},
            "_acme.stripe.name": {"value": "fixed name"},
            "_acme.stripe.status": {"source": "paid", "transform": "string"},
        },
        "exclude": ["productListItems", "_acme.stripe.metadata", "commerce.order.payments"],
    }
    mapper = build_mapper("charges", EVENT_SCHEMA, tenant_id="acme", override=override)
    xdm = mapper.map(USD)
    assert XdmValidator.for_schema(EVENT_SCHEMA).errors(xdm) == []
    assert xdm["eventType"] == "commerce.checkouts"
    assert xdm["commerce"]["checkouts"] == {"value": 1} and "purchases" not in xdm["commerce"]
    order = xdm["commerce"]["order"]
    assert (order["purchaseOrderNumber"], order["taxAmount"]) == ("6735", 10.99)
    assert "payments" not in order
    stripe = xdm["_acme"]["stripe"]
    assert (stripe["description"], stripe["name"], stripe["status"]) == ("SAN FRANCISCO", "fixed name", "true")
    assert "metadata" not in stripe and "productListItems" not in xdm
    assert mapper.map(KWD)["commerce"]["order"]["taxAmount"] == 12.345
    assert mapper.map(JPY)["eventType"] == "stripe.charge.other"
    assert mapper.map({**USD, "is_deleted": True})["eventType"] == "stripe.charge.deleted"


def test_catalog_override() -> None:
    mapper = build_mapper(
        "products", CATALOG_SCHEMA, tenant_id="acme", override={"fields": {"_acme.stripe.status": "type"}}
    )
    product = json.loads((ROOT / "tests" / "data_files" / "stripe_records" / "products.json").read_text())[0]
    assert mapper.map(product)["_acme"]["stripe"]["status"] == "service"


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"fields": {"commerce.order.nope": "id"}}, "mappings.charges.fields.commerce.order.nope"),
        ({"fields": {"_acme.stripe.bogus": "id"}}, "mappings.charges.fields._acme.stripe.bogus"),
        ({"fields": {"commerce.order": "id"}}, "mappings.charges.fields.commerce.order"),
        (
            {"fields": {"_acme.stripe.name": {"source": "id", "transform": "rot13"}}},
            "mappings.charges.fields._acme.stripe.name.transform",
        ),
        ({"fields": {"_acme.stripe.name": 5}}, "mappings.charges.fields._acme.stripe.name"),
        ({"fields": {"_acme.stripe.name": {"src": "id"}}}, "mappings.charges.fields._acme.stripe.name"),
        ({"exclude": ["timestamp"]}, "mappings.charges.exclude[0]"),
        ({"exclude": ["nothing.here"]}, "mappings.charges.exclude[0]"),
        ({"event_type": 3}, "mappings.charges.event_type"),
        ({"fieldz": {}}, "mappings.charges"),
        ("commerce.purchases", "mappings.charges"),
    ],
)
def test_bad_overrides_name_the_setting(override: object, setting: str) -> None:
    with pytest.raises(MappingConfigError) as raised:
        build_mapper("charges", EVENT_SCHEMA, tenant_id="acme", override=override)  # type: ignore[arg-type]
    assert str(raised.value).startswith(setting + ":"), str(raised.value)


def test_event_type_on_a_record_dataset_is_refused() -> None:
    with pytest.raises(MappingConfigError, match=r"^mappings\.products\.event_type: "):
        build_mapper("products", CATALOG_SCHEMA, tenant_id="acme", override={"event_type": "commerce.purchases"})
