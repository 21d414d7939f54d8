"""A backfill killed in the middle resumes from its last finished window, not from the start."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from emulators.launch import stripe_emulator
from tests.tap.tap_runner import Control, run_tap, start_tap, tap_config

pytestmark = pytest.mark.timeout(120)


def test_kill_mid_backfill_then_resume(tmp_path: Path) -> None:
    with stripe_emulator(customers=150, rate_limit=0, latency_ms=20) as emulator:
        config = tap_config(emulator.url, backfill_window_days=30, max_concurrency=4)
        expected = {obj["id"] for obj in Control(emulator.url).objects("charges")}
        assert len(expected) > 300

        proc = start_tap(config, tmp_path, streams=["charges"])
        assert proc.stdout is not None
        seen: set[str] = set()
        last_state: dict | None = None
        for line in proc.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                seen.add(message["record"]["id"])
            elif message["type"] == "STATE":
                last_state = message["value"]
            if last_state is not None and len(seen) >= len(expected) // 2:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert last_state is not None, "no STATE line before the kill"
        partition = last_state["bookmarks"]["charges"]["partitions"][0]
        assert "backfill_done_through" in partition, partition

        resumed = run_tap(config, state=last_state, streams=["charges"])
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        again = set(resumed.ids("charges"))
        assert seen | again == expected
        # Resumed, not restarted: the second run skipped what the first finished.
        assert len(again) < len(expected)
        assert "backfill_started_at" not in resumed.final_state["bookmarks"]["charges"]["partitions"][0]
