"""The AEP emulator's Schema Registry from an empty sandbox: library, create, find, Accept forms, evolution."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.launch import aep_emulator
from tests.emulators.aep_client import (
    COMMERCE,
    CONTACT,
    EVENT,
    IDENTITY_MAP,
    PERSON,
    PROFILE,
    RECORD,
    REGISTRY,
    XDM,
    XED,
    XED_FULL,
    XED_ID,
    Platform,
    example,
    quote,
    stripe_fields,
    stripe_object,
    tenant_field_group,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(store=store, batch_processing_ms=10, sandboxes="prod,dev") as process:
        yield Platform(process.url)


def titles(response: Any) -> list[str]:
    return [item["title"] for item in response.json()["results"]]


def schema_body(title: str, *refs: str) -> dict[str, Any]:
    return {"type": "object", "title": title, "description": f"{title} (test)", "allOf": [{"$ref": r} for r in refs]}


def test_an_empty_sandbox_has_only_adobes_library(aep: Platform) -> None:
    for kind in ("schemas", "fieldgroups", "classes"):
        listed = aep.get(f"{REGISTRY}/tenant/{kind}", accept=XED_ID)
        assert listed.status_code == 200 and listed.json()["results"] == []
    assert {"XDM Individual Profile", "XDM ExperienceEvent"} <= set(
        titles(aep.get(f"{REGISTRY}/global/classes", accept=XED_ID))
    )
    groups = titles(aep.get(f"{REGISTRY}/global/fieldgroups", accept=XED_ID))
    assert {"Demographic Details", "Personal Contact Details", "IdentityMap", "Commerce Details"} <= set(groups)
    assert aep.get("/data/foundation/catalog/dataSets").json() == {}
    behaviors = titles(aep.get(f"{REGISTRY}/global/behaviors", accept=XED_ID))
    assert behaviors == ["Record Schema", "Time-series Schema"]
    record = aep.get(f"{REGISTRY}/global/behaviors/_xdm.data.record", accept=XED_FULL).json()
    assert list(record["properties"]) == ["_id"]
    stats = aep.get(f"{REGISTRY}/stats").json()
    assert stats["tenantId"] == "acme" and stats["counts"]["schemas"] == 0
    # a standard field group is served with its fields, resolved from xdm/
    person = aep.get(f"{REGISTRY}/global/fieldgroups/{quote(PERSON)}", accept=XED_FULL).json()
    profile_file = json.loads((XDM / "stripe-customer-profile.schema.json").read_text())
    assert person["properties"]["person"] == profile_file["properties"]["person"]


def test_accept_headers_as_the_registry_checks_them(aep: Platform) -> None:
    versioned_list = aep.get(f"{REGISTRY}/global/classes", accept=XED)
    assert versioned_list.status_code == 400
    assert versioned_list.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1006-400"
    unversioned = aep.get(f"{REGISTRY}/global/classes/{quote(PROFILE)}", accept="application/vnd.adobe.xed+json")
    assert unversioned.status_code == 400
    assert unversioned.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1007-400"
    assert aep.get(f"{REGISTRY}/global/classes/{quote(PROFILE)}").status_code == 400  # no Accept at all
    newer = aep.get(f"{REGISTRY}/global/classes/{quote(PROFILE)}", accept="application/vnd.adobe.xed+json; version=2")
    assert newer.status_code == 406
    missing = aep.get(f"{REGISTRY}/tenant/schemas/_acme.schemas.nope", accept=XED_FULL)
    assert missing.status_code == 404 and missing.json()["title"] == "Resource not found"


def test_schemas_created_from_scratch_resolve_to_the_xdm_files(aep: Platform) -> None:
    """The three schemas built as target-aep-setup builds them resolve to what xdm/ holds, field for field."""
    record_class = aep.create(
        "classes",
        {"type": "object", "title": "Stripe Catalog Object", "description": "lookups", "allOf": [{"$ref": RECORD}]},
    )
    group = aep.create(
        "fieldgroups",
        tenant_field_group(
            "Stripe Object Details",
            stripe_fields(),
            [PROFILE, EVENT, record_class["$id"]],
            stripe_keys={k: stripe_object()[k] for k in ("title", "description")},
        ),
    )
    assert group["meta:resourceType"] == "mixins" and group["$id"].startswith("https://ns.adobe.com/acme/mixins/")
    built = {
        "stripe-customer-profile": aep.create(
            "schemas", schema_body("Customers", PROFILE, PERSON, CONTACT, IDENTITY_MAP, group["$id"])
        ),
        "stripe-commerce-event": aep.create(
            "schemas", schema_body("Commerce events", EVENT, COMMERCE, IDENTITY_MAP, group["$id"])
        ),
        "stripe-catalog-record": aep.create("schemas", schema_body("Catalog", record_class["$id"], group["$id"])),
    }
    for name, schema in built.items():
        expected = json.loads((XDM / f"{name}.schema.json").read_text())
        resolved = aep.resolved(schema["$id"])
        preset_ids = {expected["meta:extends"][-1]: group["$id"], expected["meta:class"]: resolved["meta:class"]}
        assert resolved["properties"] == expected["properties"], name
        assert resolved.get("required") == expected.get("required"), name
        assert resolved["meta:extends"] == [preset_ids.get(ref, ref) for ref in expected["meta:extends"]], name
        assert resolved["additionalProperties"] is False and resolved["meta:tenantNamespace"] == "_acme"
    # found again by title (xed-id summaries) and by meta:altId
    found = aep.get(f"{REGISTRY}/tenant/schemas", accept=XED_ID, params={"property": "title==Commerce events"})
    [summary] = found.json()["results"]
    assert summary == {
        "$id": built["stripe-commerce-event"]["$id"],
        "meta:altId": built["stripe-commerce-event"]["meta:altId"],
        "version": "1.0",
        "title": "Commerce events",
    }
    by_alt = aep.get(f"{REGISTRY}/tenant/schemas/{summary['meta:altId']}", accept=XED)
    assert by_alt.json()["allOf"][0]["$ref"] == EVENT
    # a dataset made from the created schema validates rows against its resolved form
    dataset_id = aep.dataset("Commerce events", built["stripe-commerce-event"]["$id"])
    good = example("stripe-commerce-event")
    bad = {**example("stripe-commerce-event"), "surprise": 1}
    landed = aep.run_batch(dataset_id, [json.dumps(good).encode()])
    assert landed["status"] == "success", landed.get("errors")
    assert aep.control("GET", f"landed/{dataset_id}") == [good]
    assert aep.run_batch(dataset_id, [json.dumps(bad).encode()])["status"] == "failed"


def test_notext_forms_drop_titles_never_fields_of_that_name(aep: Platform) -> None:
    group = aep.create("fieldgroups", tenant_field_group("Notes", {"description": {"type": "string"}}, [PROFILE]))
    notext = aep.get(
        f"{REGISTRY}/tenant/fieldgroups/{quote(group['$id'])}",
        accept="application/vnd.adobe.xed-full-notext+json; version=1",
    ).json()
    assert "title" not in notext and "description" not in notext
    assert notext["properties"]["_acme"]["properties"]["stripe"]["properties"]["description"]["type"] == "string"


@pytest.mark.parametrize(
    ("kind", "body", "code"),
    [
        ("schemas", {"type": "object", "title": "No description", "allOf": [{"$ref": PROFILE}]}, "XDM-1001-400"),
        ("schemas", schema_body("Two classes", PROFILE, EVENT), "XDM-1001-400"),
        ("schemas", schema_body("Wrong group", EVENT, PERSON), "XDM-1001-400"),
        ("schemas", schema_body("Unknown part", PROFILE, "https://ns.adobe.com/acme/mixins/none"), "XDM-1010-400"),
        ("classes", {"type": "object", "title": "No behavior", "description": "x", "allOf": []}, "XDM-1001-400"),
        (
            "fieldgroups",
            {
                **tenant_field_group("Outside tenant", {"a": {"type": "string"}}, [PROFILE]),
                "definitions": {"x": {"properties": {"loyalty": {"type": "string"}}}},
                "allOf": [{"$ref": "#/definitions/x"}],
            },
            "XDM-1021-400",
        ),
        ("fieldgroups", tenant_field_group("Bad type", {"a": {"type": "text"}}, [PROFILE]), "XDM-1001-400"),
        ("fieldgroups", tenant_field_group("No class", {"a": {"type": "string"}}, [RECORD + "x"]), "XDM-1001-400"),
    ],
)
def test_bodies_the_registry_refuses(aep: Platform, kind: str, body: dict[str, Any], code: str) -> None:
    refused = aep.post(f"{REGISTRY}/tenant/{kind}", body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"] == f"http://ns.adobe.com/aep/errors/{code}"
    assert refused.json()["detail"]


def test_a_title_is_unique_across_resource_types(aep: Platform) -> None:
    aep.create("fieldgroups", tenant_field_group("Shared title", {"a": {"type": "string"}}, [PROFILE]))
    taken = aep.post(f"{REGISTRY}/tenant/schemas", schema_body("Shared title", PROFILE))
    assert taken.status_code == 400
    assert taken.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1521-400"
    assert "already exists with the same title" in taken.json()["detail"]


def test_evolution_only_adds_once_a_schema_is_in_use(aep: Platform) -> None:
    fields = {k: v for k, v in stripe_fields().items() if k != "priceId"}
    group = aep.create("fieldgroups", tenant_field_group("Evolving group", fields, [PROFILE]))
    schema = aep.create("schemas", schema_body("Evolving profile", PROFILE, IDENTITY_MAP, group["$id"]))
    group_path = f"{REGISTRY}/tenant/fieldgroups/{quote(group['$id'])}"
    schema_path = f"{REGISTRY}/tenant/schemas/{quote(schema['$id'])}"
    stripe = "/definitions/stripe/properties/_acme/properties/stripe/properties"
    aep.dataset("Evolving profiles", schema["$id"])  # now the schema is in use

    added = aep.patch(group_path, [{"op": "add", "path": f"{stripe}/priceId", "value": {"type": "string"}}])
    assert added.status_code == 200, added.text
    assert added.json()["version"] == "1.1"
    resolved = aep.resolved(schema["$id"])
    assert resolved["properties"]["_acme"]["properties"]["stripe"]["properties"]["priceId"]["meta:xdmType"] == "string"

    for destructive in (
        [{"op": "remove", "path": f"{stripe}/currency"}],
        [{"op": "replace", "path": f"{stripe}/amount", "value": {"type": "string"}}],
        [{"op": "add", "path": "/definitions/stripe/properties/_acme/properties/stripe/required", "value": ["id"]}],
    ):
        refused = aep.patch(group_path, destructive)
        assert refused.status_code == 400, destructive
        assert refused.json()["title"] == "Breaking change not allowed"
    assert "currency" in aep.resolved(schema["$id"])["properties"]["_acme"]["properties"]["stripe"]["properties"]

    enabled = aep.patch(schema_path, [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}])
    assert enabled.status_code == 200 and enabled.json()["meta:immutableTags"] == ["union"]
    assert aep.resolved(schema["$id"])["meta:immutableTags"] == ["union"]
    assert aep.patch(schema_path, [{"op": "remove", "path": "/meta:immutableTags"}]).status_code == 400
    assert aep.patch(schema_path, [{"op": "replace", "path": "/$id", "value": "x"}]).status_code == 400
    bad_patch = aep.patch(schema_path, {"op": "add"})
    assert bad_patch.status_code == 400 and "JSON Patch" in bad_patch.json()["title"]


def test_profile_needs_an_identity(aep: Platform) -> None:
    group = aep.create("fieldgroups", tenant_field_group("No identity group", {"a": {"type": "string"}}, [PROFILE]))
    schema = aep.create("schemas", schema_body("No identity", PROFILE, group["$id"]))
    refused = aep.patch(
        f"{REGISTRY}/tenant/schemas/{quote(schema['$id'])}",
        [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}],
    )
    assert refused.status_code == 400
    assert refused.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1528-400"


def test_sandboxes_are_separate_and_unknown_ones_refused(aep: Platform) -> None:
    aep.create("fieldgroups", tenant_field_group("Only in prod", {"a": {"type": "string"}}, [PROFILE]))
    dev = Platform(aep.url, sandbox="dev")
    assert dev.get(f"{REGISTRY}/tenant/fieldgroups", accept=XED_ID).json()["results"] == []
    unknown = Platform(aep.url, sandbox="staging").get(f"{REGISTRY}/stats")
    assert unknown.status_code == 403 and "staging" in unknown.json()["detail"]


def test_a_primary_identity_descriptor_also_qualifies_for_profile(aep: Platform) -> None:
    group = aep.create(
        "fieldgroups", tenant_field_group("Descriptor group", {"customerId": {"type": "string"}}, [PROFILE])
    )
    schema = aep.create("schemas", schema_body("Identity by descriptor", PROFILE, group["$id"]))
    descriptor = {
        "@type": "xdm:descriptorIdentity",
        "xdm:sourceSchema": schema["$id"],
        "xdm:sourceVersion": 1,
        "xdm:sourceProperty": "/_acme/stripe/customerId",
        "xdm:namespace": "Email",
        "xdm:property": "xdm:code",
        "xdm:isPrimary": True,
    }
    assert (
        aep.post(f"{REGISTRY}/tenant/descriptors", {**descriptor, "xdm:sourceProperty": "/_acme/nope"}).status_code
        == 400
    )
    assert aep.post(f"{REGISTRY}/tenant/descriptors", {**descriptor, "xdm:namespace": "Nope"}).status_code == 400
    created = aep.post(f"{REGISTRY}/tenant/descriptors", descriptor)
    assert created.status_code == 201, created.text
    assert aep.post(f"{REGISTRY}/tenant/descriptors", descriptor).status_code == 400  # one primary identity
    listed = aep.get(f"{REGISTRY}/tenant/descriptors", accept="application/vnd.adobe.xdm-id+json")
    assert listed.json() == {"xdm:descriptorIdentity": [created.json()["@id"]]}
    path = f"{REGISTRY}/tenant/descriptors/{created.json()['@id']}"
    assert aep.get(path, accept="application/vnd.adobe.xdm+json").json()["xdm:namespace"] == "Email"
    assert aep.get(path, accept=XED).status_code == 400
    enabled = aep.patch(
        f"{REGISTRY}/tenant/schemas/{quote(schema['$id'])}",
        [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}],
    )
    assert enabled.status_code == 200, enabled.text


def test_a_field_group_is_added_to_a_schema_in_use(aep: Platform) -> None:
    schema = aep.create("schemas", schema_body("Growing events", EVENT, IDENTITY_MAP))
    aep.dataset("Growing events", schema["$id"])
    added = aep.patch(
        f"{REGISTRY}/tenant/schemas/{quote(schema['$id'])}",
        [
            {"op": "add", "path": "/allOf/-", "value": {"$ref": COMMERCE}},
            {"op": "add", "path": "/meta:extends/-", "value": COMMERCE},
        ],
    )
    assert added.status_code == 200, added.text
    resolved = aep.resolved(schema["$id"])
    assert COMMERCE in resolved["meta:extends"] and "commerce" in resolved["properties"]
    removed = aep.patch(f"{REGISTRY}/tenant/schemas/{quote(schema['$id'])}", [{"op": "remove", "path": "/allOf/2"}])
    assert removed.status_code == 400 and "commerce: a field cannot be removed" in removed.json()["detail"]


def test_restricting_a_field_in_use_is_a_breaking_change(aep: Platform) -> None:
    fields = {
        "amount": {"type": "integer", "minimum": 0, "maximum": 100000},
        "status": {"type": "string", "enum": ["open", "paid"]},
        "note": {"type": "string", "maxLength": 500},
    }
    group = aep.create("fieldgroups", tenant_field_group("Restricted group", fields, [RECORD]))
    group_path = f"{REGISTRY}/tenant/fieldgroups/{quote(group['$id'])}"
    stripe = "/definitions/stripe/properties/_acme/properties/stripe/properties"
    # Not in use yet: any change goes.
    assert aep.patch(group_path, [{"op": "replace", "path": f"{stripe}/amount/maximum", "value": 90000}]).ok
    catalog_class = aep.create("classes", {**schema_body("Restricted class", RECORD), "meta:extends": [RECORD]})
    schema = aep.create("schemas", schema_body("Restricted records", catalog_class["$id"], group["$id"]))
    aep.dataset("Restricted records", schema["$id"])

    for restriction, says in (
        ({"op": "replace", "path": f"{stripe}/amount/maximum", "value": 1099}, "maximum cannot be restricted"),
        ({"op": "replace", "path": f"{stripe}/amount/minimum", "value": 1}, "minimum cannot be restricted"),
        ({"op": "replace", "path": f"{stripe}/status/enum", "value": ["paid"]}, "enum values cannot be removed"),
        ({"op": "replace", "path": f"{stripe}/note/maxLength", "value": 20}, "maxLength cannot be restricted"),
        ({"op": "add", "path": f"{stripe}/note/pattern", "value": "^[a-z]+$"}, "a pattern cannot be added"),
    ):
        refused = aep.patch(group_path, [restriction])
        assert refused.status_code == 400, restriction
        body = refused.json()
        assert body["type"] == "http://ns.adobe.com/aep/errors/XDM-1017-400"
        assert body["title"] == "Breaking change not allowed" and says in body["detail"], body["detail"]
    amount = aep.resolved(schema["$id"])["properties"]["_acme"]["properties"]["stripe"]["properties"]["amount"]
    assert (amount["minimum"], amount["maximum"]) == (0, 90000)

    for relaxation in (
        {"op": "replace", "path": f"{stripe}/amount/maximum", "value": 10**9},
        {"op": "replace", "path": f"{stripe}/status/enum", "value": ["open", "paid", "void"]},
        {"op": "remove", "path": f"{stripe}/note/maxLength"},
    ):
        relaxed = aep.patch(group_path, [relaxation])
        assert relaxed.status_code == 200, (relaxation, relaxed.text)
