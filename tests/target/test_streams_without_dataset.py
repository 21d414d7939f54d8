"""No STATE the target writes passes a record it did not send: streams with no dataset, and streams all rejected.

The input imitates the tap: bookmarks per account partition, a STATE after each stream's records, streams one
after another. Each test reads the STATE lines the target wrote (what Meltano or `> state.json` would keep).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.target.conftest import AEP, ALL_STREAMS, DATASET_BY_CLASS, run_target, singer_messages

pytestmark = pytest.mark.timeout(60)

PROFILES = DATASET_BY_CLASS["profile"]
ACCOUNT = "acct_emulator_platform"


def bookmark(events_since: int) -> dict:
    """One stream's bookmark as the tap writes it: a partition per account."""
    return {"partitions": [{"context": {"account_id": ACCOUNT}, "events_since": events_since}]}


def state(**streams: int) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {name: bookmark(at) for name, at in streams.items()}}}


def stream_messages(stream: str) -> list[dict]:
    """The SCHEMA and RECORDs of one stream from the sample input."""
    return [m for m in singer_messages(ALL_STREAMS) if m.get("stream") == stream and m["type"] != "STATE"]


def singer_input(messages: list[dict]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


# customers (has a dataset), then coupons (has a bookmark from an earlier run), then payouts (never had one).
# Each stream's bookmark moves on in the STATE after its records; coupons also in a STATE between its records.
RUN = [
    state(customers=100, coupons=100),
    *stream_messages("customers"),
    state(customers=200, coupons=100),
    *stream_messages("coupons")[:2],
    state(customers=200, coupons=150),
    *stream_messages("coupons")[2:],
    state(customers=200, coupons=200),
    *stream_messages("payouts"),
    state(customers=200, coupons=200, payouts=200),
]


def customer_ids() -> set[str]:
    return {m["record"]["id"] for m in stream_messages("customers") if m["type"] == "RECORD"}


def landed_customer_ids(aep: AEP, before: dict[str, int]) -> set[str]:
    return {r["_acme"]["stripe"]["id"] for r in aep.landed(PROFILES)[before[PROFILES] :]}


def test_records_of_a_stream_without_dataset_fail_the_run_without_state(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets={"customers": {"dataset_id": PROFILES}})
    run = run_target(config, singer_input(RUN), tmp_path)

    assert run.returncode == 1
    assert run.states == []  # not even the STATE before the first undeliverable record: one run, one outcome
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line and "coupons, payouts" in line]
    assert len(errors) == 1, run.stderr[-3000:]
    for words in ("2 stream(s)", "datasets", "deselect", "skip_streams_without_dataset"):
        assert words in errors[0], words
    assert "Traceback" not in run.stderr
    assert "stream coupons: received 2, landed 0, rejected 0, skipped 2 (no dataset" in run.stderr
    # The other stream's records were sent (their _ids are deterministic: the rerun does not duplicate them).
    assert landed_customer_ids(aep, before) == customer_ids()


def test_a_stream_with_a_schema_but_no_records_is_harmless(aep: AEP, tmp_path: Path) -> None:
    messages = [
        state(customers=100, coupons=100),
        stream_messages("coupons")[0],  # its SCHEMA only
        *stream_messages("customers"),
        state(customers=200, coupons=200),
    ]
    config = aep.config(tmp_path, datasets={"customers": {"dataset_id": PROFILES}})
    run = run_target(config, singer_input(messages), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states == [state(customers=200, coupons=200)["value"]]


def test_skipping_holds_those_streams_bookmarks_back(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets={"customers": {"dataset_id": PROFILES}}, skip_streams_without_dataset=True)
    run = run_target(config, singer_input(RUN), tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states, "the run should confirm the stream it delivered"
    # customers moved on; coupons kept its bookmark from before its first record (not 150: records lay behind
    # it); payouts had none before its records, so it has none (its next run reads its history).
    assert run.states[-1] == {"bookmarks": {"customers": bookmark(200), "coupons": bookmark(100)}}
    assert landed_customer_ids(aep, before) == customer_ids()
    for stream in ("coupons", "payouts"):
        assert (
            f"stream {stream}: received 2, landed 0, rejected 0, skipped 2 (no dataset: not sent, bookmark not "
            "advanced)" in run.stderr
        )
        assert run.stderr.count(f"Stream '{stream}' has no entry in the datasets setting: its records are not") == 1


def test_a_renamed_stream_holds_back_the_tap_stream_it_came_from(aep: AEP, tmp_path: Path) -> None:
    """Bookmarks are the tap's: a stream map that renames coupons holds back `coupons`, not the new name."""
    config = aep.config(
        tmp_path,
        datasets={"customers": {"dataset_id": PROFILES}},
        skip_streams_without_dataset=True,
        stream_maps={"coupons": {"__alias__": "discounts"}, "payouts": {"__alias__": "payments_out"}},
    )
    run = run_target(config, singer_input(RUN), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states[-1] == {"bookmarks": {"customers": bookmark(200), "coupons": bookmark(100)}}
    assert "stream discounts: received 2, landed 0, rejected 0, skipped 2" in run.stderr


def test_stream_maps_apply_before_the_xdm_mapping(aep: AEP, tmp_path: Path) -> None:
    """`stream_maps` is advertised, so it must work: a field removed by a map does not reach AEP."""
    before = aep.landed_counts()
    messages = [*stream_messages("customers"), state(customers=200)]
    assert any(m["record"].get("email") for m in messages if m["type"] == "RECORD")
    config = aep.config(
        tmp_path,
        datasets={"customers": {"dataset_id": PROFILES}},
        stream_maps={"customers": {"email": "__NULL__"}},
    )
    run = run_target(config, singer_input(messages), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    landed = aep.landed(PROFILES)[before[PROFILES] :]
    assert {r["_acme"]["stripe"]["id"] for r in landed} == customer_ids()
    assert not [r for r in landed if "personalEmail" in r or "Email" in r.get("identityMap", {})]


def test_a_stream_whose_every_record_is_rejected_gets_one_loud_line(aep: AEP, tmp_path: Path) -> None:
    """A mapping that fails every record is a configuration problem; max_rejected_share still decides the exit."""
    events = DATASET_BY_CLASS["experienceevent"]
    messages = [*stream_messages("customers"), *stream_messages("charges"), state(customers=200, charges=200)]
    config = aep.config(
        tmp_path,
        datasets={"customers": {"dataset_id": PROFILES}, "charges": {"dataset_id": events}},
        mappings={"charges": {"fields": {"timestamp": "description"}}},  # not a date-time: XDM refuses each one
    )
    run = run_target(config, singer_input(messages), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]  # max_rejected_share is 1.0 by default
    loud = [line for line in run.stderr.splitlines() if "| WARNING" in line and "all 3 records were rejected" in line]
    assert len(loud) == 1, run.stderr[-3000:]
    assert "stream charges" in loud[0] and "timestamp" in loud[0] and "configuration problem" in loud[0]
    assert "stream customers: all" not in run.stderr


def test_batch_messages_are_refused_not_dropped(aep: AEP, tmp_path: Path) -> None:
    """The SDK would hand a BATCH file's records to process_batch unmapped: they would vanish, state advancing."""
    batch_file = tmp_path / "customers-0001.json.gz"
    records = [m["record"] for m in stream_messages("customers") if m["type"] == "RECORD"]
    batch_file.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    batch = {
        "type": "BATCH",
        "stream": "customers",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [batch_file.as_uri()],
    }
    before = aep.landed_counts()
    messages = [stream_messages("customers")[0], batch, state(customers=200)]
    config = aep.config(tmp_path, datasets={"customers": {"dataset_id": PROFILES}})
    run = run_target(config, singer_input(messages), tmp_path)
    assert run.returncode == 1
    assert "BATCH message" in run.stderr and "batch_config" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []
    assert aep.landed_counts() == before
