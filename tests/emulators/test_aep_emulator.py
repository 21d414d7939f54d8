"""The AEP emulator over real HTTP: IMS, the gateway table, Catalog/Registry, batch lifecycle, DCS streaming."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from emulators.aep.store import read_landed
from emulators.launch import EmulatorProcess, aep_emulator

pytestmark = pytest.mark.timeout(60)

XDM = Path(__file__).resolve().parents[2] / "xdm"
CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG = "EMULATOR0000000000000001@AdobeOrg"
INLET = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"
SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
PROFILE_DS, EVENT_DS, CATALOG_DS = (
    "6650f0c0ffee000000000001",
    "6650f0c0ffee000000000002",
    "6650f0c0ffee000000000003",
)
EXAMPLES = {
    PROFILE_DS: "stripe-customer-profile",
    EVENT_DS: "stripe-commerce-event",
    CATALOG_DS: "stripe-catalog-record",
}


def example(dataset_id: str) -> dict[str, Any]:
    return json.loads((XDM / "examples" / f"{EXAMPLES[dataset_id]}.json").read_text())


def schema_id(dataset_id: str) -> str:
    return json.loads((XDM / f"{EXAMPLES[dataset_id]}.schema.json").read_text())["$id"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aep-store")


@pytest.fixture(scope="module")
def aep(store: Path) -> Iterator[EmulatorProcess]:
    with aep_emulator(store=store, batch_processing_ms=20, sandbox_preset="stripe") as emulator:
        yield emulator


def get_token(base: str, **form: str) -> requests.Response:
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    data["scope"] = SCOPES
    data.update(form)
    return requests.post(f"{base}/ims/token/v3", data=data, timeout=10)


@pytest.fixture
def token(aep: EmulatorProcess) -> str:
    return str(get_token(aep.url).json()["access_token"])


def platform_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "x-api-key": CLIENT_ID,
        "x-gw-ims-org-id": ORG,
        "x-sandbox-name": "prod",
    }


def envelope(dataset_id: str, entity: Any) -> dict[str, Any]:
    ref = {"id": schema_id(dataset_id), "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    return {
        "header": {"schemaRef": ref, "imsOrgId": ORG, "datasetId": dataset_id, "source": {"name": "test"}},
        "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": entity},
    }


def run_batch(
    aep: EmulatorProcess,
    token: str,
    dataset_id: str,
    files: dict[str, bytes],
    multi_line: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Create (``options`` such as ``enableErrorDiagnostics`` go in the body), upload, complete, poll."""
    headers = platform_headers(token)
    created = requests.post(
        f"{aep.url}/data/foundation/import/batches",
        json={"datasetId": dataset_id, "inputFormat": {"format": "json", "isMultiLineJson": multi_line}, **options},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    batch_id = created.json()["id"]
    assert created.json()["status"] == "loading"
    for name, content in files.items():
        put = requests.put(
            f"{aep.url}/data/foundation/import/batches/{batch_id}/datasets/{dataset_id}/files/{name}",
            data=content,
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=10,
        )
        assert put.status_code == 200, put.text
    for _ in range(2):  # COMPLETE is idempotent
        done = requests.post(
            f"{aep.url}/data/foundation/import/batches/{batch_id}?action=COMPLETE", headers=headers, timeout=10
        )
        assert done.status_code == 200, done.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch = requests.get(f"{aep.url}/data/foundation/catalog/batches/{batch_id}", headers=headers, timeout=10)
        body = batch.json()[batch_id]
        if body["status"] in ("success", "failed"):
            return dict(body)
        assert body["status"] == "processing"
        time.sleep(0.02)
    raise AssertionError(f"batch {batch_id} did not finish")


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


# --- IMS and the gateway ---------------------------------------------------------------------------------------


def test_ims_token_and_credential_errors(aep: EmulatorProcess) -> None:
    ok = get_token(aep.url)
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer" and ok.json()["expires_in"] == 86399
    bad = get_token(aep.url, client_secret="wrong")
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
    assert get_token(aep.url, grant_type="password").status_code == 400
    as_json = requests.post(
        f"{aep.url}/ims/token/v3", json={"grant_type": "client_credentials", "client_id": CLIENT_ID}, timeout=10
    )
    assert as_json.status_code == 400


@pytest.mark.parametrize(
    ("drop", "override", "status", "code"),
    [
        ("Authorization", {}, 403, "403010"),
        (None, {"Authorization": "Bearer not-a-token"}, 401, "401013"),
        ("x-api-key", {}, 403, "403000"),
        (None, {"x-api-key": "someone-else"}, 403, "403003"),
        ("x-gw-ims-org-id", {}, 400, "400003"),
        (None, {"x-gw-ims-org-id": "OTHER@AdobeOrg"}, 403, "403025"),
        ("x-sandbox-name", {}, 400, "400003"),
    ],
)
def test_gateway_error_table(
    aep: EmulatorProcess, token: str, drop: str | None, override: dict[str, str], status: int, code: str
) -> None:
    headers = {**platform_headers(token), **override}
    if drop:
        del headers[drop]
    reply = requests.get(f"{aep.url}/data/foundation/schemaregistry/stats", headers=headers, timeout=10)
    assert reply.status_code == status
    assert reply.json()["error_code"] == code
    assert reply.json()["message"]


def test_json_body_needs_json_content_type(aep: EmulatorProcess, token: str) -> None:
    reply = requests.post(
        f"{aep.url}/data/foundation/import/batches",
        data=json.dumps({"datasetId": EVENT_DS, "inputFormat": {"format": "json"}}),
        headers={**platform_headers(token), "Content-Type": "text/plain"},
        timeout=10,
    )
    assert reply.status_code == 415


def test_tokens_expire_for_real(tmp_path: Path) -> None:
    with aep_emulator(store=tmp_path, token_ttl=1, sandbox_preset="stripe") as short:
        issued = get_token(short.url).json()
        assert issued["expires_in"] == 1
        url = f"{short.url}/data/foundation/schemaregistry/stats"
        assert requests.get(url, headers=platform_headers(issued["access_token"]), timeout=10).status_code == 200
        time.sleep(1.1)
        expired = requests.get(url, headers=platform_headers(issued["access_token"]), timeout=10)
        assert (expired.status_code, expired.json()["error_code"]) == (401, "401013")


def test_expire_tokens_control(aep: EmulatorProcess) -> None:
    mine = get_token(aep.url).json()["access_token"]
    url = f"{aep.url}/data/foundation/schemaregistry/stats"
    assert requests.get(url, headers=platform_headers(mine), timeout=10).status_code == 200
    requests.post(f"{aep.url}/_emulator/faults", json={"expire_tokens": True}, timeout=10).raise_for_status()
    assert requests.get(url, headers=platform_headers(mine), timeout=10).status_code == 401


# --- Catalog and Schema Registry -------------------------------------------------------------------------------


def test_catalog_and_registry(aep: EmulatorProcess) -> None:
    headers = platform_headers(get_token(aep.url).json()["access_token"])
    dataset = requests.get(f"{aep.url}/data/foundation/catalog/dataSets/{EVENT_DS}", headers=headers, timeout=10)
    ref = dataset.json()[EVENT_DS]["schemaRef"]
    assert ref == {"id": schema_id(EVENT_DS), "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    missing = requests.get(f"{aep.url}/data/foundation/catalog/dataSets/nope", headers=headers, timeout=10)
    assert missing.status_code == 404
    stats = requests.get(f"{aep.url}/data/foundation/schemaregistry/stats", headers=headers, timeout=10)
    assert stats.json()["tenantId"] == "acme"
    url = f"{aep.url}/data/foundation/schemaregistry/tenant/schemas/{quote(ref['id'], safe='')}"
    for accept in ("application/vnd.adobe.xed-full+json; version=1", "application/vnd.adobe.xed-full+json;version=1"):
        schema = requests.get(url, headers={**headers, "Accept": accept}, timeout=10)
        assert schema.status_code == 200
        assert schema.content == (XDM / "stripe-commerce-event.schema.json").read_bytes()
    alt = f"{aep.url}/data/foundation/schemaregistry/tenant/schemas/_acme.schemas.f0920596f86250b9a0cfe04ae7697c44"
    by_alt = requests.get(alt, headers={**headers, "Accept": "application/vnd.adobe.xed-full+json; version=1"})
    assert by_alt.json()["$id"] == ref["id"]
    unversioned = requests.get(url, headers={**headers, "Accept": "application/vnd.adobe.xed-full+json"}, timeout=10)
    assert unversioned.status_code == 400
    assert unversioned.json()["type"] == "http://ns.adobe.com/aep/errors/XDM-1007-400"
    newer = requests.get(url, headers={**headers, "Accept": "application/vnd.adobe.xed-full+json; version=2"})
    assert newer.status_code == 406


# --- batch ingestion ---------------------------------------------------------------------------------------------


def test_batch_of_examples_lands(aep: EmulatorProcess, token: str, store: Path) -> None:
    for dataset_id in (PROFILE_DS, EVENT_DS, CATALOG_DS):
        records = [example(dataset_id)]
        batch = run_batch(aep, token, dataset_id, {"part-1.json": jsonl(records)})
        assert batch["status"] == "success", batch.get("errors")
        assert batch["metrics"]["inputRecordCount"] == batch["metrics"]["outputRecordCount"] == 1
        assert batch["relatedObjects"] == [{"type": "dataSet", "id": dataset_id}]
        landed_file = store / dataset_id / f"{batch['id']}.jsonl"
        assert [json.loads(line) for line in landed_file.read_text().splitlines()] == records
        assert read_landed(store, dataset_id)[-1] == records[0]


def test_batch_with_many_rows_and_files(aep: EmulatorProcess, token: str, store: Path) -> None:
    before = len(read_landed(store, EVENT_DS))
    rows = []
    for i in range(500):
        row = example(EVENT_DS)
        row["_id"] = f"ch_{i:05d}"
        rows.append(row)
    batch = run_batch(aep, token, EVENT_DS, {"a.json": jsonl(rows[:250]), "b.json": jsonl(rows[250:])})
    assert batch["status"] == "success"
    assert batch["metrics"]["outputRecordCount"] == 500
    landed = requests.get(f"{aep.url}/_emulator/landed/{EVENT_DS}", timeout=10).json()
    assert [r["_id"] for r in landed[before:]] == [f"ch_{i:05d}" for i in range(500)]


def row_errors(aep: EmulatorProcess, token: str, batch_id: str) -> list[dict[str, Any]]:
    """Every failed row of a batch, through the Data Access API's diagnostic files."""
    meta = f"{aep.url}/data/foundation/export/batches/{batch_id}/meta"
    listing = requests.get(meta, params={"path": "row_errors"}, headers=platform_headers(token), timeout=10)
    assert listing.status_code == 200, listing.text
    rows = []
    for entry in listing.json()["data"]:
        content = requests.get(entry["_links"]["self"]["href"], headers=platform_headers(token), timeout=10)
        rows += [json.loads(line) for line in content.text.splitlines()]
    return rows


def test_failed_batch_lands_nothing_and_says_why(aep: EmulatorProcess, token: str, store: Path) -> None:
    before = read_landed(store, EVENT_DS)
    extraneous = example(EVENT_DS)
    extraneous["_acme"]["stripe"]["surprise"] = 1
    bad_currency = example(EVENT_DS)
    bad_currency["commerce"]["order"]["currencyCode"] = "usd"
    rows = jsonl([example(EVENT_DS), extraneous, bad_currency])
    undiagnosed = run_batch(aep, token, EVENT_DS, {"f.json": rows})
    assert undiagnosed["status"] == "failed"
    assert [e["code"] for e in undiagnosed["errors"]] == ["INGEST-1211-400"]  # "resend with diagnostics on"
    batch = run_batch(aep, token, EVENT_DS, {"f.json": rows}, enableErrorDiagnostics=True)
    assert batch["status"] == "failed"
    assert batch["metrics"]["outputRecordCount"] == 0 and batch["metrics"]["failedRecordCount"] == 2
    assert [(e["code"], e["recordCount"], e["rows"]) for e in batch["errors"]] == [("INGEST-1402-400", 2, ["2-3"])]
    failed = {
        json.loads(r["_corrupt_record"])["commerce"]["order"]["currencyCode"]: r
        for r in row_errors(aep, token, batch["id"])
    }
    assert failed["USD"]["_errors"][0]["message"] == "#/_acme/stripe: extraneous key [surprise] is not permitted"
    assert failed["usd"]["_errors"][0]["message"] == (
        "#/commerce/order/currencyCode: string [usd] does not match pattern ^[A-Z]{3}$"
    )
    assert read_landed(store, EVENT_DS) == before


def test_multi_line_json_and_unparseable_rows(aep: EmulatorProcess, token: str, store: Path) -> None:
    product = example(CATALOG_DS)
    product["_id"] = "prod_multi_line"
    array = json.dumps([product], indent=2).encode()
    batch = run_batch(aep, token, CATALOG_DS, {"all.json": array}, multi_line=True)
    assert batch["status"] == "success"
    assert read_landed(store, CATALOG_DS)[-1] == product
    broken = run_batch(
        aep, token, CATALOG_DS, {"x.json": jsonl([product]) + b"{not json\n"}, enableErrorDiagnostics=True
    )
    assert broken["status"] == "failed"
    assert broken["errors"][0]["code"] == "INGEST-1401-400" and broken["errors"][0]["rows"] == ["2"]
    [corrupt] = row_errors(aep, token, broken["id"])
    assert corrupt["_corrupt_record"] == "{not json" and corrupt["_errors"][0]["code"] == "1401"


def test_empty_forced_and_aborted_batches(aep: EmulatorProcess, token: str) -> None:
    empty = run_batch(aep, token, CATALOG_DS, {})
    assert empty["status"] == "failed" and empty["errors"][0]["code"] == "EMPTY_BATCH"
    requests.post(f"{aep.url}/_emulator/faults", json={"fail_next_batches": 1}, timeout=10).raise_for_status()
    forced = run_batch(aep, token, CATALOG_DS, {"x.json": jsonl([example(CATALOG_DS)])})
    assert forced["status"] == "failed"
    headers = platform_headers(token)
    created = requests.post(
        f"{aep.url}/data/foundation/import/batches",
        json={"datasetId": CATALOG_DS, "inputFormat": {"format": "json"}},
        headers=headers,
        timeout=10,
    ).json()
    abort = requests.post(
        f"{aep.url}/data/foundation/import/batches/{created['id']}?action=ABORT", headers=headers, timeout=10
    )
    assert abort.status_code == 200
    status = requests.get(f"{aep.url}/data/foundation/catalog/batches/{created['id']}", headers=headers, timeout=10)
    assert status.json()[created["id"]]["status"] == "aborted"
    upload = requests.put(
        f"{aep.url}/data/foundation/import/batches/{created['id']}/datasets/{CATALOG_DS}/files/late.json",
        data=b"{}\n",
        headers={**headers, "Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert upload.status_code == 400


def test_batch_create_validates_body(aep: EmulatorProcess, token: str) -> None:
    url = f"{aep.url}/data/foundation/import/batches"
    for body in ({"datasetId": "unknown", "inputFormat": {"format": "json"}}, {"datasetId": EVENT_DS}):
        assert requests.post(url, json=body, headers=platform_headers(token), timeout=10).status_code == 400


# --- streaming ----------------------------------------------------------------------------------------------------


def test_streaming_batch_mixed_results(aep: EmulatorProcess, token: str, store: Path) -> None:
    good = example(CATALOG_DS)
    good["_id"] = "prod_streamed_1"
    extraneous = copy.deepcopy(good)
    extraneous["oops"] = True
    messages = [envelope(CATALOG_DS, good), envelope(CATALOG_DS, extraneous), {"header": {}}]
    reply = requests.post(
        f"{aep.url}/collection/batch/{INLET}",
        json={"messages": messages},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 207
    body = reply.json()
    responses = body["responses"]
    assert responses[0] == {"xactionId": f"{body['batchId']}:0"}
    assert responses[1]["statusCode"] == 400 and "extraneous key [oops] is not permitted" in responses[1]["message"]
    assert responses[2]["statusCode"] == 400
    assert read_landed(store, CATALOG_DS)[-1] == good
    assert any(p.name.startswith("streaming-") for p in (store / CATALOG_DS).iterdir())


def test_streaming_single_and_sync_validation(aep: EmulatorProcess, token: str) -> None:
    url = f"{aep.url}/collection/{INLET}"
    auth = {"Authorization": f"Bearer {token}"}
    ok = requests.post(url, json=envelope(EVENT_DS, example(EVENT_DS)), headers=auth, timeout=10)
    assert ok.status_code == 200 and ok.json()["inletId"] == INLET and ok.json()["xactionId"]
    bad = example(EVENT_DS)
    bad["commerce"]["order"]["currencyCode"] = "usd"
    report = requests.post(f"{url}?syncValidation=true", json=envelope(EVENT_DS, bad), headers=auth, timeout=10)
    assert report.status_code == 400 and report.json()["title"] == "Invalid XDM Message Format"
    causes = report.json()["report"]["cause"]["_streamingValidation"]
    assert causes[0]["pointerToViolation"] == "#/commerce/order/currencyCode"
    assert requests.post(url, json=envelope(EVENT_DS, bad), timeout=10).status_code == 401
    assert requests.post(f"{aep.url}/collection/nope", json={}, headers=auth, timeout=10).status_code == 404


def test_streaming_payload_over_1mb_is_413(aep: EmulatorProcess, token: str) -> None:
    big = {"messages": [envelope(CATALOG_DS, {"_id": "x" * (1024 * 1024)})]}
    reply = requests.post(
        f"{aep.url}/collection/batch/{INLET}", json=big, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert reply.status_code == 413


def test_rate_limit_and_unavailable_via_control(aep: EmulatorProcess, token: str) -> None:
    control = requests.post(
        f"{aep.url}/_emulator/faults", json={"rate_limit_next": 1, "unavailable_next": 1}, timeout=10
    )
    assert control.status_code == 200
    url = f"{aep.url}/data/foundation/schemaregistry/stats"
    first = requests.get(url, headers=platform_headers(token), timeout=10)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert requests.get(url, headers=platform_headers(token), timeout=10).status_code == 503
    assert requests.get(url, headers=platform_headers(token), timeout=10).status_code == 200
    stats = requests.get(f"{aep.url}/_emulator/stats", timeout=10).json()
    assert stats["responses_429"] >= 1 and stats["responses_503"] >= 1
