"""``max_state_lag_seconds``: with the input left open (a continuous tap between polls), a STATE is written within
the lag, only after AEP accepted the records before it; the SDK alone would hold it until its 5-minute drain.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.target.conftest import AEP, REPO, dataset_for, datasets_setting, singer_messages

pytestmark = pytest.mark.timeout(60)
LAG = 2.0
MARGIN = 6.0  # generous: a shared 2-core machine; the SDK alone would take 300 s


def _customer_messages() -> tuple[dict, list[dict]]:
    messages = singer_messages("stripe_all_streams.singer")
    schema = next(m for m in messages if m["type"] == "SCHEMA" and m["stream"] == "customers")
    records = [m for m in messages if m["type"] == "RECORD" and m["stream"] == "customers"]
    return schema, records


@pytest.mark.parametrize("mode", ["streaming", "batch"])
def test_state_is_written_within_the_lag_while_the_input_stays_open(aep: AEP, tmp_path: Path, mode: str) -> None:
    schema, records = _customer_messages()
    live = json.loads(json.dumps(records[0]))
    live["record"]["id"] = f"cus_live_{mode}"
    dataset = dataset_for("customers")
    config = aep.config(
        tmp_path,
        ingestion_mode=mode,
        datasets=datasets_setting(["customers"], inlet=mode == "streaming"),
        max_state_lag_seconds=LAG,
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def send(*messages: dict) -> float:
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages))  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        return time.monotonic()

    before = len(aep.landed(dataset))
    sent = send(schema, *records[:2], {"type": "STATE", "value": {"bookmarks": {"customers": {"poll": 1}}}})
    first = json.loads(lines.get(timeout=LAG + MARGIN))
    first_lag = time.monotonic() - sent
    landed = aep.landed(dataset)[before:]
    assert first == {"bookmarks": {"customers": {"poll": 1}}}
    assert {r["_acme"]["stripe"]["id"] for r in landed} == {r["record"]["id"] for r in records[:2]}, (
        "the STATE came out before AEP accepted the records before it"
    )

    # The next poll's change (made now, while the target runs), its STATE, and again no more input for a while.
    live["record"]["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sent = send(live, {"type": "STATE", "value": {"bookmarks": {"customers": {"poll": 2}}}})
    second = json.loads(lines.get(timeout=LAG + MARGIN))
    second_lag = time.monotonic() - sent
    assert second == {"bookmarks": {"customers": {"poll": 2}}}
    assert live["record"]["id"] in {r["_acme"]["stripe"]["id"] for r in aep.landed(dataset)[before:]}

    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    assert first_lag < LAG + MARGIN and second_lag < LAG + MARGIN
    # The change made while the target ran is the one live change whose latency the report keeps.
    assert "latency of 1 live changes, Stripe to AEP confirmation" in stderr, stderr[-2000:]
