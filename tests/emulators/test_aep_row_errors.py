"""Row-level verdicts of a batch: error diagnostics, partial ingestion, and the Data Access API that returns them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulators.launch import aep_emulator
from tests.emulators.aep_client import Platform, example

pytestmark = pytest.mark.timeout(60)
EVENT_DS = "6650f0c0ffee000000000002"
EXPORT = "/data/foundation/export/batches"


@pytest.fixture(scope="module")
def aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(store=store, batch_processing_ms=10, sandbox_preset="stripe") as process:
        yield Platform(process.url)


def events(*overrides: dict[str, Any]) -> list[bytes]:
    rows = []
    for number, override in enumerate(overrides, start=1):
        row = {**example("stripe-commerce-event"), "_id": f"ch_{number}", **override}
        rows.append(json.dumps({k: v for k, v in row.items() if v is not None}).encode())
    return rows


def diagnostics(aep: Platform, batch_id: str) -> list[dict[str, Any]]:
    listing = aep.get(f"{EXPORT}/{batch_id}/meta", params={"path": "row_errors"})
    assert listing.status_code == 200, listing.text
    rows = []
    for entry in listing.json()["data"]:
        assert entry["name"].endswith("_errors_0.json") and int(entry["length"]) > 0
        rows += [
            json.loads(line)
            for line in aep.session.get(entry["_links"]["self"]["href"], headers=aep.headers()).text.splitlines()
        ]
    return rows


def test_partial_ingestion_lands_valid_rows_and_reports_each_failed_one(aep: Platform) -> None:
    lines = events({}, {"timestamp": None}, {}, {"eventType": 7}, {})
    lines.insert(2, b"{broken")
    batch = aep.run_batch(EVENT_DS, lines, enableErrorDiagnostics=True, partialIngestionPercentage=50)
    assert batch["status"] == "success"
    assert batch["metrics"]["inputRecordCount"] == 6 and batch["metrics"]["failedRecordCount"] == 3
    assert batch["tags"] == {"acp_enableErrorDiagnostics": True, "acp_partialIngestionPercent": 50}
    codes = {e["code"]: e for e in batch["errors"]}
    assert codes["INGEST-1212-400"]["description"].startswith(
        "Encountered 3 errors in the data. Successfully ingested 3"
    )
    assert (codes["INGEST-1555-400"]["recordCount"], codes["INGEST-1555-400"]["rows"]) == (1, ["2"])
    assert (codes["INGEST-1401-400"]["recordCount"], codes["INGEST-1401-400"]["rows"]) == (1, ["3"])
    assert (codes["INGEST-1402-400"]["recordCount"], codes["INGEST-1402-400"]["rows"]) == (1, ["5"])
    assert [r["_id"] for r in aep.control("GET", f"landed/{EVENT_DS}")] == ["ch_1", "ch_3", "ch_5"]
    by_code = {row["_errors"][0]["code"]: row for row in diagnostics(aep, batch["id"])}
    assert json.loads(by_code["1555"]["_corrupt_record"])["_id"] == "ch_2"
    assert by_code["1555"]["_errors"][0]["message"] == "#: required key [timestamp] not found"
    assert by_code["1401"]["_corrupt_record"] == "{broken" and by_code["1401"]["_filename"] == "part-1.json"
    assert by_code["1402"]["_errors"][0]["message"] == "#/eventType: expected type: String, found: Integer"


def test_over_the_threshold_the_batch_fails_and_lands_nothing(aep: Platform) -> None:
    before = aep.control("GET", f"landed/{EVENT_DS}")
    batch = aep.run_batch(EVENT_DS, events({}, {"eventType": 1}), partialIngestionPercentage=10)
    assert batch["status"] == "failed" and batch["metrics"]["outputRecordCount"] == 0
    assert [(e["code"], e["rows"]) for e in batch["errors"]] == [("INGEST-1402-400", ["2"])]
    assert aep.control("GET", f"landed/{EVENT_DS}") == before
    failed = aep.get(f"{EXPORT}/{batch['id']}/failed").json()["data"]
    assert [f["name"] for f in failed] == ["part-1.json"]
    sent = aep.session.get(failed[0]["_links"]["self"]["href"], headers=aep.headers())
    assert sent.content.splitlines() == events({}, {"eventType": 1})


def test_without_diagnostics_there_are_no_row_files(aep: Platform) -> None:
    batch = aep.run_batch(EVENT_DS, events({"eventType": 1}))
    assert [e["code"] for e in batch["errors"]] == ["INGEST-1211-400"]
    assert aep.get(f"{EXPORT}/{batch['id']}/meta", params={"path": "row_errors"}).status_code == 404
    inputs = aep.get(f"{EXPORT}/{batch['id']}/meta", params={"path": "input_files/fileMetaData0.json"})
    assert inputs.json() == {"path": "part-1.json"}


def test_a_successful_batch_lists_its_dataset_file(aep: Platform) -> None:
    batch = aep.run_batch(EVENT_DS, events({}, {}), enableErrorDiagnostics=True)
    assert batch["status"] == "success" and "errors" not in batch
    assert diagnostics(aep, batch["id"]) == []
    [file] = aep.get(f"{EXPORT}/{batch['id']}/files").json()["data"]
    assert file["records"] == "2"
    listing = aep.session.get(file["_links"]["self"]["href"], headers=aep.headers()).json()["data"]
    content = aep.session.get(listing[0]["_links"]["self"]["href"], headers=aep.headers())
    assert [json.loads(line)["_id"] for line in content.text.splitlines()] == ["ch_1", "ch_2"]
    assert aep.get(f"{EXPORT}/unknown/failed").status_code == 404
    refused = aep.post(
        "/data/foundation/import/batches",
        {"datasetId": EVENT_DS, "inputFormat": {"format": "json"}, "partialIngestionPercentage": 150},
    )
    assert refused.status_code == 400


def test_row_refusal_rules_fail_valid_rows_like_platform_validation(aep: Platform) -> None:
    rule = {
        "dataset_id": EVENT_DS,
        "pointer": "/commerce/order/priceTotal",
        "exceeds": 20,
        "code": "1402",
        "message": "#/commerce/order/priceTotal: {value} is not less or equal to 20",
    }
    other_dataset = {"dataset_id": "6650f0c0ffee000000000003", "pointer": "/_id", "matches": "."}
    assert aep.control("POST", "row_refusals", {"rules": [rule, other_dataset]})["rules"][0] == rule
    try:
        order = example("stripe-commerce-event")["commerce"]
        dear = {"commerce": {**order, "order": {**order["order"], "priceTotal": 25.5}}}
        batch = aep.run_batch(EVENT_DS, events({}, dear, {}), enableErrorDiagnostics=True)
    finally:
        assert aep.control("POST", "row_refusals", {"rules": []}) == {"rules": []}
    assert batch["status"] == "failed" and batch["metrics"]["failedRecordCount"] == 1
    assert [(e["code"], e["recordCount"], e["rows"]) for e in batch["errors"]] == [("INGEST-1402-400", 1, ["2"])]
    (row,) = diagnostics(aep, batch["id"])
    assert json.loads(row["_corrupt_record"])["_id"] == "ch_2"
    assert row["_errors"] == [
        {"code": "1402", "message": "#/commerce/order/priceTotal: 25.5 is not less or equal to 20"}
    ]
    # Cleared: the same rows land.
    assert aep.run_batch(EVENT_DS, events({}, dear), enableErrorDiagnostics=True)["status"] == "success"


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ([{"dataset_id": EVENT_DS, "pointer": "/_id"}], "exactly one of"),
        ([{"dataset_id": EVENT_DS, "pointer": "_id", "equals": 1}], "JSON pointer"),
        ([{"dataset_id": EVENT_DS, "pointer": "/_id", "matches": "("}], "not a regular expression"),
        ([{"dataset_id": EVENT_DS, "pointer": "/_id", "equals": 1, "code": "9999"}], "code must be one of"),
        ([{"dataset_id": EVENT_DS, "pointer": "/_id", "equals": 1, "colour": "red"}], "unknown rule keys"),
    ],
)
def test_row_refusal_rules_that_make_no_sense_are_refused(aep: Platform, rules: list, says: str) -> None:
    response = requests.post(f"{aep.url}/_emulator/row_refusals", json={"rules": rules}, timeout=10)
    assert response.status_code == 400 and says in response.json()["detail"]
    assert aep.control("GET", "row_refusals") == {"rules": []}
