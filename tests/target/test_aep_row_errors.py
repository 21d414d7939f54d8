"""AEP's verdicts per record: rows AEP refuses in a failed batch reach the dead-letter file with their Stripe ids.

The target validates every record against the dataset's schema before sending, so AEP refuses a row only when it
applies a rule the target does not know. The end-to-end tests set such a rule through the emulator's test control
``/_emulator/row_refusals``: event rows whose ``_acme.stripe.amount`` exceeds 1099 are refused as Platform's
validation refuses a row (``1402``), through the same batch errors and Data Access row error files. (Restricting a
field of a schema in use through the Schema Registry is refused, as Platform refuses it.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from target_aep.aep.errors import BatchFailedError
from target_aep.aep.row_errors import FailedRow, LineMatcher, RowErrorReader
from target_aep.dataset_batches import StreamPart
from target_aep.dead_letter import DeadLetterFile
from target_aep.refused_rows import trace_refused_rows
from target_aep.report import RunReport
from target_aep.runtime import TargetRuntime
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    CLIENT_SECRET,
    XDM_DIR,
    TargetRun,
    dataset_for,
    datasets_setting,
    run_target,
    singer_messages,
)

pytestmark = pytest.mark.timeout(90)
CATALOG_DATASET = "6650f0c0ffee000000000003"
EVENTS_DATASET = "6650f0c0ffee000000000002"
PROFILES_DATASET = "6650f0c0ffee000000000001"


def catalog_row(xdm_id: str, **stripe: object) -> bytes:
    row = json.loads((XDM_DIR / "examples" / "stripe-catalog-record.json").read_text())
    row["_id"] = xdm_id
    row["_acme"]["stripe"].update(stripe)
    return json.dumps(row, separators=(",", ":")).encode()


def products_part(lines: list[bytes], record_ids: list[object]) -> StreamPart:
    """The lines of one stream, ``products``, as a batch carries them."""
    return StreamPart("products", lines, record_ids, sum(map(len, lines)), lambda _batch_id: None)


def rejected_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_rows_aep_refuses_are_traced_to_their_records(aep: AEP, tmp_path: Path) -> None:
    runtime = TargetRuntime(aep.config(tmp_path, datasets={"products": {"dataset_id": CATALOG_DATASET}}))
    dataset = runtime.destination("products").dataset  # type: ignore[union-attr]
    assert dataset is not None
    # Sent as is (the runtime does not validate): AEP judges each row.
    lines = [
        catalog_row("row-good"),
        catalog_row("row-extra", surprise=1),
        catalog_row("row-type", amount="twelve"),
        catalog_row("row-good-2"),
    ]
    with pytest.raises(BatchFailedError) as raised:
        runtime.send_batch(dataset, [products_part(lines, ["prod_good", "prod_extra", "prod_type", "prod_good_2"])])
    runtime.close()
    failed = raised.value

    entries = rejected_entries(tmp_path / "rejected.jsonl")
    assert sorted(e["id"] for e in entries) == ["prod_extra", "prod_type"]
    by_id = {e["id"]: e for e in entries}
    for entry in entries:
        assert entry["stream"] == "products" and entry["batch_id"] == failed.batch_id
        assert entry["dataset_id"] == CATALOG_DATASET
        assert [e["code"] for e in entry["aep_errors"]] == ["1402"]
        assert entry["reasons"] == [
            f"rejected by AEP in batch {failed.batch_id}: 1402: {entry['aep_errors'][0]['message']}"
        ]
    assert "extraneous key [surprise]" in by_id["prod_extra"]["aep_errors"][0]["message"]
    assert "#/_acme/stripe/amount" in by_id["prod_type"]["aep_errors"][0]["message"]
    assert by_id["prod_type"]["record"]["_id"] == "row-type"  # the XDM row as sent
    counts = runtime.report.streams["products"]
    assert (counts.rejected_by_aep, counts.in_failed_batches, counts.landed) == (2, 4, 0)
    assert "AEP refused 2 of its 4 rows" in str(failed) and "rejected.jsonl" in str(failed)
    assert not {"row-good", "row-good-2"} & {r["_id"] for r in aep.landed(CATALOG_DATASET)}


def test_row_errors_that_cannot_be_read_are_said_with_how_to_look_them_up(aep: AEP, tmp_path: Path) -> None:
    runtime = TargetRuntime(aep.config(tmp_path, datasets={"products": {"dataset_id": CATALOG_DATASET}}))
    dataset = runtime.destination("products").dataset  # type: ignore[union-attr]
    assert dataset is not None
    lines = [catalog_row("row-unread", surprise=1)]
    with pytest.raises(BatchFailedError) as raised:
        runtime.send_batch(dataset, [products_part(lines, ["prod_unread"])])
    failed = raised.value
    failed.rows_verdict = ""

    # Read again without the permission Data Access needs: the batch's failure stands, and the message says why
    # its rows are not known and where to find them.
    elsewhere = DeadLetterFile(tmp_path / "again.jsonl", list)
    requests.post(f"{aep.url}/_emulator/permissions", json={"deny": ["View Datasets"]}, timeout=10).raise_for_status()
    try:
        trace_refused_rows(
            failed,
            parts=[products_part(lines, ["prod_unread"])],
            part_of_file={},
            reader=RowErrorReader(runtime.gateway),
            dead_letters=elsewhere,
            report=RunReport(),
        )
    finally:
        requests.post(f"{aep.url}/_emulator/permissions", json={"deny": []}, timeout=10).raise_for_status()
    runtime.close()
    message = str(failed)
    assert message.startswith(f"batch {failed.batch_id} for dataset {CATALOG_DATASET} ended 'failed'")
    assert "row errors could not be read" in message and "HTTP 403" in message
    assert f"/data/foundation/export/batches/{failed.batch_id}/meta?path=row_errors" in message
    assert not (tmp_path / "again.jsonl").exists()


def test_rows_given_as_columns_are_matched_by_id_and_duplicates_one_each() -> None:
    lines = [b'{"_id":"a","x":1}', b'{"_id":"b","x":2}', b'{"_id":"b","x":2}']
    rows = [
        FailedRow.from_diagnostic({"_id": "b", "x": 2, "_errors": [{"code": "123", "message": "m"}]}),
        FailedRow.from_diagnostic({"_corrupt_record": '{"_id":"b","x":2}', "_errors": []}),
        FailedRow.from_diagnostic({"_corrupt_record": "{not json", "_errors": []}),
    ]
    matcher = LineMatcher(lines)
    assert [matcher.find(row) for row in rows] == [1, 2, None]


# -- end to end: the CLI, and AEP refusing rows its schema alone would take


def refuse_amounts_over(aep: AEP, maximum: int) -> None:
    """Make AEP refuse event rows whose ``_acme.stripe.amount`` exceeds ``maximum``, as a validation failure."""
    rule = {
        "dataset_id": EVENTS_DATASET,
        "pointer": "/_acme/stripe/amount",
        "exceeds": maximum,
        "code": "1402",
        "message": f"#/_acme/stripe/amount: {{value}} is not less or equal to {maximum}",
    }
    requests.post(f"{aep.url}/_emulator/row_refusals", json={"rules": [rule]}, timeout=10).raise_for_status()


def run_with_amounts_capped(aep: AEP, tmp_path: Path, messages: list[dict], **settings: object) -> TargetRun:
    """Run the target on ``messages`` while AEP refuses charges over 1099 that the target finds valid."""
    streams = [m["stream"] for m in messages if m["type"] == "SCHEMA"]
    config = aep.config(tmp_path, datasets=datasets_setting(streams), **settings)
    refuse_amounts_over(aep, 1099)
    try:
        return run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)
    finally:
        requests.post(f"{aep.url}/_emulator/row_refusals", json={"rules": []}, timeout=10).raise_for_status()


def sample(streams: list[str]) -> list[dict]:
    """The sample's messages of ``streams``, keyed by id and account as the tap keys them."""
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") in streams or m["type"] == "STATE"]
    for message in messages:
        if message["type"] == "SCHEMA":
            message["key_properties"] = ["id", "account_id"]
    return messages


CHARGE_AMOUNTS = {"ch_3PqUsd0000000001": 1099, "ch_3PqJpy0000000002": 5000, "ch_3PqKwd0000000003": 12345}
CHARGE_ACCOUNTS = {
    "ch_3PqUsd0000000001": "acct_emulator_platform",
    "ch_3PqJpy0000000002": "acct_emulator_platform",
    "ch_3PqKwd0000000003": "acct_1PqConnectedShop01",
}


def check_refused_charges(run: TargetRun, dead_letter_file: Path, refused: list[str]) -> None:
    """Exit 1 with one clear line, no STATE, and each refused charge in the dead-letter file with AEP's verdict."""
    assert run.returncode == 1, run.stderr[-3000:]
    assert run.states == [], "no STATE may be written past a failed batch"
    entries = rejected_entries(dead_letter_file)
    assert sorted(e["id"]["id"] for e in entries) == refused
    for entry in entries:
        charge = entry["id"]["id"]
        assert entry["id"] == {"id": charge, "account_id": CHARGE_ACCOUNTS[charge]}  # the key, as in any reject
        assert entry["stream"] == "charges" and entry["dataset_id"] == dataset_for("charges") == EVENTS_DATASET
        assert entry["record"]["_acme"]["stripe"]["id"] == charge  # the XDM row sent for that charge
        message = f"#/_acme/stripe/amount: {CHARGE_AMOUNTS[charge]} is not less or equal to 1099"
        assert entry["aep_errors"] == [{"code": "1402", "message": message}]
        assert entry["batch_id"] in run.stderr
    assert f"AEP refused {len(refused)} of its" in run.stderr and "INGEST-1402-400" in run.stderr
    assert "Traceback" not in run.stderr and CLIENT_SECRET not in run.stderr


def test_a_batch_aep_fails_puts_its_refused_rows_in_the_dead_letter_file_and_writes_no_state(
    aep: AEP, tmp_path: Path
) -> None:
    messages = sample(["charges", "customers"])
    assert {
        m["record"]["id"]: m["record"]["amount"] for m in messages if m["type"] == "RECORD" and m["stream"] == "charges"
    } == CHARGE_AMOUNTS
    before = aep.landed_counts()
    run = run_with_amounts_capped(aep, tmp_path, messages)

    check_refused_charges(run, tmp_path / "rejected.jsonl", ["ch_3PqJpy0000000002", "ch_3PqKwd0000000003"])
    # The charges' batch landed nothing; the customers' batch, which AEP accepted, landed.
    assert aep.landed_counts()[EVENTS_DATASET] == before[EVENTS_DATASET]
    customers = [m["record"]["id"] for m in messages if m["type"] == "RECORD" and m["stream"] == "customers"]
    landed = [r["_acme"]["stripe"]["id"] for r in aep.landed(PROFILES_DATASET)[before[PROFILES_DATASET] :]]
    assert sorted(landed) == sorted(customers)
    summary = "stream charges: received 3, landed 0, rejected 0, in failed batches 3 (not landed; rejected by AEP 2)"
    assert summary in run.stderr
    assert "AEP refused 2 of its 3 rows" in run.stderr


def test_a_batch_failed_before_the_end_of_input_still_reports_its_refused_rows(aep: AEP, tmp_path: Path) -> None:
    # One record a batch: the USD charge lands, the JPY charge's batch fails, and the run stops at the KWD charge
    # (its stream's next batch), before the end of input.
    before = aep.landed_counts()
    run = run_with_amounts_capped(aep, tmp_path, sample(["charges"]), batch_max_records=1)

    check_refused_charges(run, tmp_path / "rejected.jsonl", ["ch_3PqJpy0000000002"])
    landed = [r["_acme"]["stripe"]["id"] for r in aep.landed(EVENTS_DATASET)[before[EVENTS_DATASET] :]]
    assert landed == ["ch_3PqUsd0000000001"]
    assert "stream charges: received 3, landed 1, rejected 0, in failed batches 1 (not landed; rejected by AEP 1)" in (
        run.stderr
    )
