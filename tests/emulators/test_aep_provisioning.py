"""The AEP emulator's set-up APIs beside the registry: Catalog datasets, identity namespaces, Flow Service inlets
(and DCS accepting them), the permissions knob, the request log, and the retry knobs on the new endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.launch import aep_emulator
from tests.emulators.aep_client import (
    COMMERCE,
    EVENT,
    IDENTITY_MAP,
    ORG,
    PROFILE,
    REGISTRY,
    XED_FULL,
    Platform,
    example,
    quote,
    stripe_fields,
    tenant_field_group,
)

pytestmark = pytest.mark.timeout(60)
CATALOG = "/data/foundation/catalog/dataSets"
NAMESPACES = "/data/core/idnamespace/identities"
FLOWS = "/data/foundation/flowservice"
HTTP_API = {"id": "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb", "version": "1.0"}
DATA_LAKE = {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}
FLOW_SPEC = {"id": "d8a6f005-7eaf-4153-983e-e8574508b877", "version": "1.0"}


@pytest.fixture(scope="module")
def aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(store=store, batch_processing_ms=10) as process:
        yield Platform(process.url)


@pytest.fixture(scope="module")
def schemas(aep: Platform) -> dict[str, str]:
    """A profile schema (Profile-enabled) and an event schema, both with the Stripe field group."""
    group = aep.create("fieldgroups", tenant_field_group("Stripe Object Details", stripe_fields(), [PROFILE, EVENT]))
    body = {"type": "object", "description": "test"}
    profile = aep.create(
        "schemas",
        {**body, "title": "Profiles", "allOf": [{"$ref": PROFILE}, {"$ref": IDENTITY_MAP}, {"$ref": group["$id"]}]},
    )
    event = aep.create(
        "schemas", {**body, "title": "Events", "allOf": [{"$ref": EVENT}, {"$ref": COMMERCE}, {"$ref": group["$id"]}]}
    )
    aep.patch(
        f"{REGISTRY}/tenant/schemas/{quote(profile['$id'])}",
        [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}],
    ).raise_for_status()
    return {"profile": profile["$id"], "event": event["$id"]}


def test_datasets_are_created_found_and_profile_enabled(aep: Platform, schemas: dict[str, str]) -> None:
    dataset_id = aep.dataset("Stripe customer profiles", schemas["profile"])
    found = aep.get(CATALOG, params={"property": "name==Stripe customer profiles"}).json()
    assert list(found) == [dataset_id]
    assert found[dataset_id]["schemaRef"] == {"id": schemas["profile"], "contentType": XED_FULL}
    assert aep.get(CATALOG, params={"property": "name==nobody"}).json() == {}
    tags = [
        {"op": "add", "path": "/tags/unifiedProfile", "value": ["enabled:true"]},
        {"op": "add", "path": "/tags/unifiedIdentity", "value": ["enabled:true"]},
    ]
    patched = aep.patch(f"{CATALOG}/{dataset_id}", tags, headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200 and patched.json() == [f"@/dataSets/{dataset_id}"]
    assert aep.get(f"{CATALOG}/{dataset_id}").json()[dataset_id]["tags"] == {
        "unifiedProfile": ["enabled:true"],
        "unifiedIdentity": ["enabled:true"],
    }
    merged = aep.patch(f"{CATALOG}/{dataset_id}", {"description": "from Stripe"})
    assert merged.status_code == 200
    described = aep.get(f"{CATALOG}/{dataset_id}", params={"properties": "description,version"}).json()
    assert described == {dataset_id: {"description": "from Stripe", "version": "1.0.2"}}
    assert aep.patch(f"{CATALOG}/{dataset_id}", {"schemaRef": {"id": "x"}}).status_code == 400


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"name": "No schema"}, "schemaRef"),
        (
            {
                "name": "Unknown schema",
                "schemaRef": {"id": "https://ns.adobe.com/acme/schemas/x", "contentType": XED_FULL},
            },
            "not a schema",
        ),
        ({"name": "Stripe customer profiles", "schemaRef": None}, "schemaRef"),
        ({"name": "Odd", "schemaRef": {"id": "x", "contentType": XED_FULL}, "colour": "red"}, "unknown"),
    ],
)
def test_dataset_bodies_catalog_refuses(aep: Platform, body: dict[str, Any], why: str) -> None:
    refused = aep.post(CATALOG, body)
    assert refused.status_code == 400 and why in refused.json()["detail"]


def test_profile_switch_needs_a_profile_schema(aep: Platform, schemas: dict[str, str]) -> None:
    tags = {"unifiedProfile": ["enabled:true"]}
    refused = aep.post(
        CATALOG,
        {"name": "Events on Profile", "schemaRef": {"id": schemas["event"], "contentType": XED_FULL}, "tags": tags},
    )
    assert refused.status_code == 400 and "not enabled for Profile" in refused.json()["detail"]
    first = aep.dataset("Twice", schemas["event"])
    assert (
        first
        and aep.post(
            CATALOG, {"name": "Twice", "schemaRef": {"id": schemas["event"], "contentType": XED_FULL}}
        ).status_code
        == 400
    )


def test_identity_namespaces(aep: Platform) -> None:
    codes = {ns["code"] for ns in aep.get(NAMESPACES).json()}
    assert {"Email", "Phone", "ECID"} <= codes and "StripeCustomerId" not in codes
    created = aep.post(NAMESPACES, {"name": "Stripe customer", "code": "StripeCustomerId", "idType": "Cross_device"})
    assert created.status_code == 200, created.text
    assert created.json()["idType"] == "CROSS_DEVICE" and created.json()["custom"] is True
    assert aep.get(f"{NAMESPACES}/{created.json()['id']}").json()["code"] == "StripeCustomerId"
    taken = aep.post(NAMESPACES, {"name": "Again", "code": "stripecustomerid", "idType": "Email"})
    assert taken.status_code == 409 and taken.json()["report"]["code"] == "INTEGRATION_CODE_EXISTS"
    bad_type = aep.post(NAMESPACES, {"name": "Pets", "code": "Pets", "idType": "Animal"})
    assert bad_type.status_code == 400 and "idType" in bad_type.json()["description"]
    bad_code = aep.post(NAMESPACES, {"name": "Pets", "code": "pet-id", "idType": "Cookie"})
    assert bad_code.status_code == 400
    assert aep.get(f"{NAMESPACES}/999").status_code == 404


def test_streaming_connection_inlet_and_dataflow(aep: Platform, schemas: dict[str, str]) -> None:
    dataset_id = aep.dataset("Streamed events", schemas["event"])
    other_id = aep.dataset("Not streamed", schemas["event"])
    auth = {"specName": "Streaming Connection", "params": {"dataType": "xdm", "authenticationRequired": True}}
    connection = aep.post(f"{FLOWS}/connections", {"name": "Stripe", "connectionSpec": HTTP_API, "auth": auth})
    assert connection.status_code == 201, connection.text
    [item] = aep.get(f"{FLOWS}/connections/{connection.json()['id']}").json()["items"]
    inlet_id = item["auth"]["params"]["inletId"]
    assert item["auth"]["params"]["inletUrl"].endswith(f"/collection/{inlet_id}")
    source = aep.post(
        f"{FLOWS}/sourceConnections",
        {"name": "Stripe source", "baseConnectionId": connection.json()["id"], "connectionSpec": HTTP_API},
    )
    target = aep.post(
        f"{FLOWS}/targetConnections",
        {
            "name": "Events target",
            "connectionSpec": DATA_LAKE,
            "data": {"schema": {"id": schemas["event"], "version": XED_FULL}},
            "params": {"dataSetId": dataset_id},
        },
    )
    assert source.status_code == target.status_code == 201, (source.text, target.text)
    flow = aep.post(
        f"{FLOWS}/flows",
        {
            "name": "Events flow",
            "flowSpec": FLOW_SPEC,
            "sourceConnectionIds": [source.json()["id"]],
            "targetConnectionIds": [target.json()["id"]],
        },
    )
    assert flow.status_code == 201, flow.text
    for collection, created in (("sourceConnections", source), ("targetConnections", target), ("flows", flow)):
        [found] = aep.get(f"{FLOWS}/{collection}/{created.json()['id']}").json()["items"]
        assert found["etag"] == created.json()["etag"]
    listed = aep.get(f"{FLOWS}/flows", params={"property": f"sourceConnectionIds=={source.json()['id']}"})
    assert [f["id"] for f in listed.json()["items"]] == [flow.json()["id"]]

    entity = {**example("stripe-commerce-event"), "_id": "ch_streamed"}
    ref = {"id": schemas["event"], "contentType": XED_FULL}

    def message(dataset: str) -> dict[str, Any]:
        return {
            "header": {"schemaRef": ref, "imsOrgId": ORG, "datasetId": dataset},
            "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity},
        }

    sent = aep.session.post(
        f"{aep.url}/collection/batch/{inlet_id}",
        json={"messages": [message(dataset_id), message(other_id)]},
        headers={"Authorization": f"Bearer {aep.token}"},
        timeout=10,
    )
    assert sent.status_code == 207
    first, second = sent.json()["responses"]
    assert "xactionId" in first and second["statusCode"] == 400 and "no dataflow" in second["message"]
    assert aep.control("GET", f"landed/{dataset_id}") == [entity]
    assert aep.control("GET", f"landed/{other_id}") == []
    no_token = aep.session.post(f"{aep.url}/collection/{inlet_id}", json=message(dataset_id), timeout=10)
    assert no_token.status_code == 401 and no_token.json()["title"] == "Authorization"


@pytest.mark.parametrize(
    ("collection", "body"),
    [
        ("connections", {"name": "Wrong spec", "connectionSpec": {"id": "nope", "version": "1.0"}, "auth": {}}),
        (
            "connections",
            {
                "name": "Raw",
                "connectionSpec": HTTP_API,
                "auth": {"specName": "Streaming Connection", "params": {"dataType": "raw"}},
            },
        ),
        ("sourceConnections", {"name": "Orphan", "baseConnectionId": "missing", "connectionSpec": HTTP_API}),
        (
            "targetConnections",
            {"name": "No dataset", "connectionSpec": DATA_LAKE, "data": {}, "params": {"dataSetId": "0"}},
        ),
        ("flows", {"name": "Empty", "flowSpec": FLOW_SPEC, "sourceConnectionIds": [], "targetConnectionIds": []}),
    ],
)
def test_flow_bodies_refused(aep: Platform, collection: str, body: dict[str, Any]) -> None:
    assert aep.post(f"{FLOWS}/{collection}", body).status_code == 400


def test_permissions_knob_denies_with_403(aep: Platform) -> None:
    try:
        aep.control("POST", "permissions", {"deny": ["Manage Schemas", "View Identity Namespaces"]})
        write = aep.post(f"{REGISTRY}/tenant/classes", {"type": "object"})
        assert write.status_code == 403 and "Schema Registry" in write.json()["detail"]
        assert aep.get(f"{REGISTRY}/stats").status_code == 200  # reading is another permission
        assert aep.get(NAMESPACES).status_code == 403
    finally:
        aep.control("POST", "permissions", {"deny": []})
    assert aep.get(NAMESPACES).status_code == 200
    with pytest.raises(Exception, match="400"):
        aep.control("POST", "permissions", {"deny": ["Fly"]})


def test_request_log_counts_writes_and_faults_apply_to_new_apis(aep: Platform) -> None:
    aep.control("POST", "requests/reset")
    aep.get(NAMESPACES)
    aep.post(NAMESPACES, {"name": "Log", "code": "LogTest", "idType": "Email"})
    log = aep.control("GET", "requests")
    assert [(r["method"], r["path"], r["status"], r["sandbox"]) for r in log["requests"]] == [
        ("GET", NAMESPACES, 200, "prod"),
        ("POST", NAMESPACES, 200, "prod"),
    ]
    assert log["writes"] == 1
    aep.control("POST", "faults", {"rate_limit_next": 1, "unavailable_next": 1})
    limited = aep.post(f"{FLOWS}/connections", {})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert aep.get(f"{REGISTRY}/tenant/schemas", accept="application/vnd.adobe.xed-id+json").status_code == 503
    assert [r["status"] for r in aep.control("GET", "requests")["requests"][-2:]] == [429, 503]
    assert json.loads(json.dumps(aep.control("GET", "sandboxes"))) == {"sandboxes": ["prod"]}
