"""Streaming mode: records land through the HTTP API inlet; rejects are dead-lettered; 429s are survived."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    CLIENT_SECRET,
    INLET_ID,
    SCHEMA_FILE_BY_DATASET,
    dataset_for,
    datasets_setting,
    run_target,
    singer_messages,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(60)


def test_streaming_lands_every_stream_and_survives_429(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    aep.faults(rate_limit_next=2)
    config = aep.config(
        tmp_path, ingestion_mode="streaming", datasets=datasets_setting(streams_in(ALL_STREAMS), inlet=True)
    )
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states
    expected: dict[str, list[str]] = {d: [] for d in SCHEMA_FILE_BY_DATASET}
    for message in singer_messages(ALL_STREAMS):
        if message["type"] == "RECORD":
            expected[dataset_for(message["stream"])].append(message["record"]["id"])
    for dataset_id, ids in expected.items():
        landed = aep.landed(dataset_id)[before[dataset_id] :]
        assert sorted(r["_acme"]["stripe"]["id"] for r in landed) == sorted(ids)
    assert "HTTP 429" in run.stderr
    # The run report names the inlet and counts what each dataset accepted through it.
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["mode"] == "streaming" and report["batches"]["total"] == 0
    accepted = {d: 0 for d in SCHEMA_FILE_BY_DATASET}
    for traffic in report["streaming"]:
        assert traffic["inlet_id"] == INLET_ID and traffic["refused"] == 0
        accepted[traffic["dataset_id"]] += traffic["accepted"]
    assert accepted == {d: len(ids) for d, ids in expected.items()}
    assert CLIENT_SECRET not in run.stderr + run.stdout


def test_streaming_dead_letters_invalid_records(aep: AEP, tmp_path: Path) -> None:
    config = aep.config(
        tmp_path, ingestion_mode="streaming", datasets=datasets_setting(["customers", "charges"], inlet=True)
    )
    run = run_target(config, singer_text("stripe_invalid_records.singer"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    rejected = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert len(rejected) == 3
    assert sum(e["id"] is None and e["reasons"] == ["missing key property id"] for e in rejected) == 2
    assert any(str(e["id"]).endswith("_badtime") and "timestamp" in " ".join(e["reasons"]) for e in rejected)
    assert "stream charges: received 3, landed 1, rejected 2" in run.stderr


def test_secrets_never_reach_output_state_or_dead_letters(aep: AEP, tmp_path: Path) -> None:
    aep.faults(unavailable_next=1)
    config = aep.config(
        tmp_path, ingestion_mode="streaming", datasets=datasets_setting(["customers", "charges"], inlet=True)
    )
    run = run_target(config, singer_text("stripe_invalid_records.singer"), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    reports = (tmp_path / "report.html").read_text() + (tmp_path / "report.json").read_text()
    everything = run.stdout + run.stderr + (tmp_path / "rejected.jsonl").read_text() + reports
    assert CLIENT_SECRET not in everything
    assert "Bearer" not in everything and "access_token" not in everything
