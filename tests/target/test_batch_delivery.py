"""Batch mode against the AEP emulator: every stream lands where it should, with the expected ids, valid XDM."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from jsonschema import Draft6Validator, FormatChecker

from target_aep.xdm import build_mapper
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    CLIENT_SECRET,
    SCHEMA_FILE_BY_DATASET,
    dataset_for,
    dataset_schema,
    datasets_setting,
    run_target,
    singer_messages,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(90)


def expected_landing() -> dict[str, list[dict]]:
    """Dataset id -> the XDM each sample record must land as (computed with the same mapper)."""
    expected: dict[str, list[dict]] = defaultdict(list)
    for message in singer_messages(ALL_STREAMS):
        if message["type"] == "RECORD":
            dataset_id = dataset_for(message["stream"])
            mapper = build_mapper(message["stream"], dataset_schema(dataset_id), tenant_id="acme")
            expected[dataset_id].append(mapper.map(message["record"]))
    return expected


def schema_validator(dataset_id: str) -> Draft6Validator:
    return Draft6Validator(dataset_schema(dataset_id), format_checker=FormatChecker())


# Written by hand from the sample records and Stripe's currency rules, not computed with the mapper, so a
# mapping bug cannot hide behind ``expected_landing``. The `_id`s are pinned on purpose: a change in the id rule
# would make a replay of old data duplicate every event in AEP.
EVENTS = "6650f0c0ffee000000000002"
PROFILES = "6650f0c0ffee000000000001"
HAND_WRITTEN_ORDERS = {
    # charge id: (_id, eventType, priceTotal, currencyCode, primary customer id or None)
    "ch_3PqUsd0000000001": (
        "2b4485d7-212b-5c78-9a34-752f0b1e006d",
        "commerce.purchases",
        10.99,
        "USD",
        "cus_PqA1b2C3d4E5f6",
    ),
    "ch_3PqJpy0000000002": (
        "a5f98b4b-0355-5afe-bc87-1e7da652080b",
        "commerce.backofficeOrderCancelled",
        5000,
        "JPY",
        "cus_PqT0ky0Yamada01",
    ),
    "ch_3PqKwd0000000003": ("c0b34b6f-c23a-5890-b5b8-23d57ec02b5a", "commerce.purchases", 12.345, "KWD", None),
}


def check_hand_written_expectations(landed: dict[str, list[dict]]) -> None:
    charges = {r["_acme"]["stripe"]["id"]: r for r in landed[EVENTS] if r["_acme"]["stripe"]["id"].startswith("ch_")}
    for charge_id, (xdm_id, event_type, total, currency, customer) in HAND_WRITTEN_ORDERS.items():
        event = charges[charge_id]
        assert (event["_id"], event["eventType"]) == (xdm_id, event_type), charge_id
        order = event["commerce"]["order"]
        assert (order["priceTotal"], order["currencyCode"]) == (total, currency), charge_id
        assert order["payments"][0] == {
            "transactionID": charge_id,
            "paymentAmount": total,
            "paymentType": order["payments"][0]["paymentType"],
            "currencyCode": currency,
        }
        primaries = [i["id"] for ids in event["identityMap"].values() for i in ids if i["primary"]]
        assert primaries == ([customer] if customer else []), charge_id
        if customer:
            assert event["identityMap"]["StripeCustomerId"][0]["id"] == customer
    assert charges["ch_3PqJpy0000000002"]["commerce"]["order"]["refundTotal"] == 5000  # JPY: not divided

    profiles = {r["_acme"]["stripe"]["id"]: r for r in landed[PROFILES]}
    jenny = profiles["cus_PqA1b2C3d4E5f6"]
    assert jenny["_id"] == "f081442f-953d-5948-9a34-f9a4960e062d"
    assert jenny["person"]["name"] == {"fullName": "Jenny Rosen", "firstName": "Jenny", "lastName": "Rosen"}
    assert jenny["personalEmail"]["address"] == "Jenny.Rosen@example.com"
    assert jenny["homeAddress"]["countryCode"] == "US" and jenny["homeAddress"]["city"] == "San Francisco"
    assert jenny["identityMap"] == {
        "StripeCustomerId": [{"id": "cus_PqA1b2C3d4E5f6", "primary": True, "authenticatedState": "authenticated"}],
        "Email": [{"id": "jenny.rosen@example.com", "primary": False, "authenticatedState": "ambiguous"}],
    }
    deleted = profiles["cus_PqDe1eTed0000x"]
    assert deleted["_acme"]["stripe"]["deleted"] is True and "person" not in deleted


def test_every_stream_lands_valid_with_expected_ids_and_replays_identically(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=7)
    first = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]

    expected = expected_landing()
    assert set(expected) == set(SCHEMA_FILE_BY_DATASET), "the samples should cover all three datasets"
    first_ids: dict[str, list[str]] = {}
    for dataset_id, records in expected.items():
        landed = aep.landed(dataset_id)[before[dataset_id] :]
        assert sorted(r["_id"] for r in landed) == sorted(r["_id"] for r in records), dataset_id
        assert sorted(r["_acme"]["stripe"]["id"] for r in landed) == sorted(r["_acme"]["stripe"]["id"] for r in records)
        assert len({r["_id"] for r in landed}) == len(landed), "each record has its own _id"
        validator = schema_validator(dataset_id)
        for record in landed:
            errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(record)]
            assert not errors, (record["_id"], errors)
        first_ids[dataset_id] = sorted(r["_id"] for r in landed)

    check_hand_written_expectations({d: aep.landed(d)[before[d] :] for d in SCHEMA_FILE_BY_DATASET})

    # The final STATE is the input's last one, and it comes once everything has landed.
    last_input_state = [m for m in singer_messages(ALL_STREAMS) if m["type"] == "STATE"][-1]["value"]
    assert first.states and first.states[-1] == last_input_state
    assert "landed" in first.stderr and CLIENT_SECRET not in first.stderr

    middle = aep.landed_counts()
    second = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    for dataset_id, ids in first_ids.items():
        replayed = sorted(r["_id"] for r in aep.landed(dataset_id)[middle[dataset_id] :])
        assert replayed == ids, "a replay must give the same _ids"


def test_invalid_records_go_only_to_the_dead_letter_file(aep: AEP, tmp_path: Path) -> None:
    config = aep.config(tmp_path, datasets=datasets_setting(["customers", "charges"]))
    before = aep.landed_counts()
    run = run_target(config, singer_text("stripe_invalid_records.singer"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]

    good_ids = {
        m["record"]["id"]
        for m in singer_messages("stripe_invalid_records.singer")
        if m["type"] == "RECORD" and "id" in m["record"] and not m["record"]["id"].endswith("_badtime")
    }
    landed_ids = {r["_acme"]["stripe"]["id"] for d in SCHEMA_FILE_BY_DATASET for r in aep.landed(d)[before[d] :]}
    assert landed_ids == good_ids

    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert len(rejected) == 3
    by_stream = defaultdict(list)
    for entry in rejected:
        assert set(entry) >= {"stream", "id", "reasons", "record", "time"}
        assert entry["reasons"]
        by_stream[entry["stream"]].append(entry)
    for stream in ("customers", "charges"):
        assert any(e["reasons"] == ["missing key property id"] and e["id"] is None for e in by_stream[stream])
    bad_time = [e for e in by_stream["charges"] if e["id"] and e["id"].endswith("_badtime")]
    assert len(bad_time) == 1 and "timestamp" in " ".join(bad_time[0]["reasons"])
    assert bad_time[0]["record"]["created"] == "yesterday"  # the original record, as received
    assert "stream charges: received 3, landed 1, rejected 2" in run.stderr
    assert run.states  # the run went on and confirmed what it landed


def test_max_rejected_share_fails_the_run(aep: AEP, tmp_path: Path) -> None:
    config = aep.config(tmp_path, datasets=datasets_setting(["customers", "charges"]), max_rejected_share=0.1)
    run = run_target(config, singer_text("stripe_invalid_records.singer"), tmp_path)
    assert run.returncode != 0
    assert "max_rejected_share" in run.stderr
    assert not run.states  # a failed run does not advance state: fixed, the next run reads the rejects again
    assert "stream charges: received 3, landed 1, rejected 2" in run.stderr  # the report still comes


def test_an_updated_value_that_is_no_timestamp_lands_and_measures_no_latency(aep: AEP, tmp_path: Path) -> None:
    """`updated` is read as a live change's time when it sorts after the run's start; a value that is no
    timestamp (here "in_1", as a stream may carry) used to fail the run with a traceback once AEP had accepted it."""
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") == "customers" and m["type"] != "STATE"]
    records = [m for m in messages if m["type"] == "RECORD"][:2]
    assert len(records) == 2
    records[0]["record"] = {**records[0]["record"], "id": "cus_odd_updated", "updated": "in_1"}
    records[1]["record"] = {**records[1]["record"], "id": "cus_live_updated", "updated": "2999-01-01T00:00:00Z"}
    schema = [m for m in messages if m["type"] == "SCHEMA"]
    state = {"type": "STATE", "value": {"bookmarks": {"customers": {"odd": 1}}}}
    text = "".join(json.dumps(m) + "\n" for m in [*schema, *records, state])
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]))
    run = run_target(config, text, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states == [state["value"]]
    landed = {r["_acme"]["stripe"]["id"] for r in aep.landed(PROFILES)}
    assert {"cus_odd_updated", "cus_live_updated"} <= landed
    assert "latency of 1 live changes" in run.stderr, run.stderr[-2000:]
