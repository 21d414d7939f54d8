"""STATE only after acceptance; failed batches stop the run; injected faults are survived with nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    CLIENT_SECRET,
    REPO,
    SCHEMA_FILE_BY_DATASET,
    dataset_for,
    datasets_setting,
    run_target,
    singer_messages,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(90)


def input_ids_by_dataset() -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {d: [] for d in SCHEMA_FILE_BY_DATASET}
    for message in singer_messages(ALL_STREAMS):
        if message["type"] == "RECORD":
            ids[dataset_for(message["stream"])].append(message["record"]["id"])
    return ids


def landed_ids(aep: AEP, before: dict[str, int]) -> dict[str, list[str]]:
    return {d: [r["_acme"]["stripe"]["id"] for r in aep.landed(d)[before[d] :]] for d in SCHEMA_FILE_BY_DATASET}


def landed_counts(aep: AEP) -> dict[str, int]:
    return aep.landed_counts()


def test_state_is_written_only_after_slow_batches_succeed(aep: AEP, tmp_path: Path) -> None:
    # Small sinks: they fill up and are drained (their batches sent) while STATE lines are still being read,
    # which is the path where a STATE could overtake a batch still processing.
    aep.faults(batch_processing_ms=300)
    try:
        before = aep.landed_counts()
        config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=2)
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(config))
        process = subprocess.Popen(
            [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
        )
        assert process.stdin is not None and process.stdout is not None
        started = time.monotonic()
        process.stdin.write(singer_text(ALL_STREAMS))
        process.stdin.close()
        first_state = process.stdout.readline()
        # The moment a STATE line appears, every record before it must already be in its dataset.
        at_state = landed_ids(aep, before)
        elapsed = time.monotonic() - started
        process.stdout.read()
        assert process.wait(timeout=60) == 0
    finally:
        aep.faults(batch_processing_ms=20)
    assert first_state.strip(), "the run should confirm its state"
    assert elapsed >= 0.3, "the state line cannot come before the slow batch finished"
    expected = input_ids_by_dataset()
    for dataset_id, ids in expected.items():
        assert sorted(at_state[dataset_id]) == sorted(ids), dataset_id


def test_failed_batch_stops_the_run_without_state(aep: AEP, tmp_path: Path) -> None:
    aep.faults(fail_next_batches=1)
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=3)
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode != 0
    assert run.states == [], "no STATE may be written past a failed batch"
    assert "ended 'failed'" in run.stderr
    assert "fail_next_batches" in run.stderr  # AEP's own error description is shown
    assert "AEP named no refused row" in run.stderr  # its row errors were read: the batch failed as a whole


def test_429_503_dropped_connections_and_token_expiry_lose_nothing(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    tokens_before = aep.stats().get("tokens_issued", 0)

    def expire_tokens_mid_run() -> None:
        # Once the run holds a token, revoke it: the next call gets a 401 and must recover.
        deadline = time.monotonic() + 30
        while aep.stats().get("tokens_issued", 0) <= tokens_before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        aep.faults(expire_tokens=True)

    revoker = threading.Thread(target=expire_tokens_mid_run, daemon=True)
    aep.faults(rate_limit_next=3, unavailable_next=2, fault_rate=0.15)
    try:
        config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=5)
        revoker.start()
        run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    finally:
        revoker.join(timeout=30)
        aep.faults(fault_rate=0.0)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states
    expected = input_ids_by_dataset()
    got = landed_ids(aep, before)
    for dataset_id, ids in expected.items():
        assert sorted(got[dataset_id]) == sorted(ids), dataset_id  # each record exactly once
    assert "HTTP 429" in run.stderr and "HTTP 503" in run.stderr
    assert "token refused (401)" in run.stderr
    assert CLIENT_SECRET not in run.stderr + run.stdout
    assert "Bearer" not in run.stderr


def test_short_lived_tokens_are_refreshed_before_expiry(tmp_path: Path) -> None:
    from emulators.launch import aep_emulator
    from tests.target.conftest import AEP as Emulator

    store = tmp_path / "store"
    with aep_emulator(store=store, token_ttl=2, batch_processing_ms=2500, sandbox_preset="stripe") as process:
        aep = Emulator(process, store)
        config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=10)
        run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.stderr.count("Got an IMS access token") >= 2
        got = landed_ids(aep, dict.fromkeys(SCHEMA_FILE_BY_DATASET, 0))
        assert {d: sorted(v) for d, v in got.items()} == {d: sorted(v) for d, v in input_ids_by_dataset().items()}


def test_malformed_json_fails_before_sending(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]))
    run = run_target(config, singer_text("malformed_json.singer"), tmp_path)
    lines = singer_text("malformed_json.singer").splitlines()
    assert run.returncode != 0
    assert f"input line {len(lines)} is not valid JSON" in run.stderr
    assert run.states == []
    assert aep.landed_counts() == before


def test_input_that_is_not_utf8_fails_with_one_clear_line(aep: AEP, tmp_path: Path) -> None:
    """Input is read as bytes; a line that is not UTF-8 is named, as a malformed JSON line is, not a traceback."""
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]))
    lines = singer_text("malformed_json.singer").encode().splitlines()
    lines[-1] = b'{"type": "STATE", "value": {"customers": "caf\xe9"}}'  # Latin-1, not UTF-8
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    run = subprocess.run(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    stderr = run.stderr.decode()
    assert run.returncode == 1
    assert f"input line {len(lines)} is not UTF-8 text (byte 46: invalid continuation byte)" in stderr
    assert "Traceback" not in stderr
    assert run.stdout == b""  # no STATE
    assert aep.landed_counts() == before


def test_record_before_schema_fails_clearly(aep: AEP, tmp_path: Path) -> None:
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]))
    run = run_target(config, singer_text("record_before_schema.singer"), tmp_path)
    assert run.returncode != 0
    assert "encountered before a corresponding schema" in run.stderr
    assert run.states == []
