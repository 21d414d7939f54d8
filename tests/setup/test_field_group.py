"""The tenant field group is generated from the mapping's own table, so the two cannot drift (no emulator)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from target_aep.setup.field_group import compare_field_group, field_group_body, stripe_object_schema
from target_aep.xdm.stripe_fields import TENANT_FIELDS, object_type, stripe_details

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "tests" / "data_files" / "stripe_records"
XDM_FIXTURES = sorted((REPO / "xdm").glob("*.schema.json"))
CLASSES = ["https://ns.adobe.com/xdm/context/profile", "https://ns.adobe.com/xdm/context/experienceevent"]

# What a value of each XDM type is on the wire.
WIRE_TYPES = {"string": str, "date-time": str, "boolean": bool, "long": int, "map": dict}


def _closed(node: dict) -> dict:
    """A stored field as the Registry resolves it (`xed-full`): objects are closed and typed `object`."""
    node = copy.deepcopy(node)
    if node.get("type") == "object" and "properties" in node:
        node["additionalProperties"] = False
        node.setdefault("meta:xdmType", "object")
        node["properties"] = {k: _closed(v) for k, v in node["properties"].items()}
    return node


@pytest.mark.parametrize("path", sorted(RECORDS.glob("*.json")), ids=lambda p: p.stem)
def test_the_mapping_fills_exactly_the_declared_fields_with_their_types(path: Path) -> None:
    declared = {f.name: f for f in TENANT_FIELDS}
    for record in json.loads(path.read_text()):
        details = stripe_details(record, path.stem, object_type(record, path.stem))
        assert set(details) == set(declared), f"{path.stem}: stripe_details and TENANT_FIELDS disagree"
        for name, value in details.items():
            if value is not None:
                expected = WIRE_TYPES[declared[name].xdm_type]
                assert type(value) is expected, f"{path.stem}.{name}: {value!r} is not {declared[name].xdm_type}"


@pytest.mark.parametrize("path", XDM_FIXTURES, ids=lambda p: p.stem)
def test_the_generated_field_group_resolves_to_the_tenant_block_of_the_xdm_schemas(path: Path) -> None:
    fixture = json.loads(path.read_text())["properties"]["_acme"]["properties"]["stripe"]
    assert _closed(stripe_object_schema()) == fixture


def test_an_existing_group_lacking_fields_only_gets_them_added() -> None:
    body = field_group_body(title="Stripe Object Details", description="d", tenant="acme", class_ids=list(CLASSES))
    stripe = body["definitions"]["stripeObjectDetails"]["properties"]["_acme"]["properties"]["stripe"]["properties"]
    del stripe["priceId"], stripe["metadata"]
    stripe["amount"] = {"type": "string", "meta:xdmType": "string"}  # a destructive difference
    stripe["legacyCode"] = {"type": "string"}  # a field of the customer's own

    changes = compare_field_group(body, "acme", list(CLASSES))

    assert changes.missing == ["metadata", "priceId"]
    assert changes.retyped == ["amount: string here, long in the mapping"]
    assert changes.extra == ["legacyCode"]
    assert {op["op"] for op in changes.ops} == {"add"}
    base = "/definitions/stripeObjectDetails/properties/_acme/properties/stripe/properties/"
    assert [op["path"] for op in changes.ops] == [base + "metadata", base + "priceId"]


def test_a_group_without_the_tenant_block_gets_a_new_definition() -> None:
    stored = {"title": "Stripe Object Details", "meta:intendedToExtend": CLASSES[:1], "definitions": {}, "allOf": []}

    changes = compare_field_group(stored, "acme", list(CLASSES))

    assert [op["path"] for op in changes.ops] == [
        "/meta:intendedToExtend/-",
        "/definitions/stripeObjectDetails",
        "/allOf/-",
    ]
    assert changes.missing == [f.name for f in TENANT_FIELDS]
