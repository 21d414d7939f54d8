"""Continuous mode (``poll_interval_seconds``): changes made while the tap runs reach its output, each once; SIGTERM
ends it with exit 0 after a last STATE from which a restart misses nothing and repeats at most the last poll.
"""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from emulators.launch import EmulatorProcess
from tests.tap.tap_runner import Control, run_tap, start_tap, tap_config

pytestmark = pytest.mark.timeout(120)
STREAMS = ["customers", "charges"]
SECOND_LONGER_THAN_THE_OVERLAP = 120  # events_since less EVENT_LAG_SECONDS (60) is re-read by a restart


class TapOutput:
    """The running tap's stdout, read in a thread: messages in order, waited for with a deadline."""

    def __init__(self, proc: Any) -> None:
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stdout: Any) -> None:
        for line in stdout:
            self.messages.put(json.loads(line))
        self.messages.put(None)

    def until(self, done: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.seen):
            message = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            assert message is not None, "the tap ended before the condition was met"
            self.seen.append(message)

    def rest(self) -> list[dict[str, Any]]:
        self._thread.join(timeout=30)
        while (message := self.messages.get(timeout=5)) is not None:
            self.seen.append(message)
        return self.seen

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.seen if m["type"] == "RECORD" and m["stream"] == stream]


def _caught_up(messages: list[dict[str, Any]]) -> bool:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    if not states:
        return False
    bookmarks = states[-1].get("bookmarks", {})
    return all(
        "events_since" in (bookmarks.get(s, {}).get("partitions") or [{}])[0]
        and "backfill_started_at" not in (bookmarks.get(s, {}).get("partitions") or [{}])[0]
        for s in STREAMS
    )


def _emitted(output: TapOutput, ids: dict[str, list[str]]) -> Any:
    def done(_: list[dict[str, Any]]) -> bool:
        return all(set(want) <= {r["id"] for r in output.records(stream)} for stream, want in ids.items())

    return done


def _touched(answer: dict[str, Any]) -> dict[str, list[str]]:
    """Ids per stream of the selected streams that a mutate call changed, created or deleted."""
    touched: dict[str, list[str]] = {}
    for kind in ("updated", "created", "deleted"):
        for stream, ids in answer.get(kind, {}).items():
            if stream in STREAMS:
                touched.setdefault(stream, []).extend(ids)
    return touched


def test_continuous_tap_emits_changes_made_while_it_runs_and_stops_cleanly(
    own_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = Control(own_emulator.url)
    config = tap_config(own_emulator.url, poll_interval_seconds=1)
    log_path = tmp_path / "tap.log"
    with log_path.open("w") as log:
        proc = start_tap(config, tmp_path, streams=STREAMS, stderr=log)
        output = TapOutput(proc)
        output.until(_caught_up)
        history = {s: len(output.records(s)) for s in STREAMS}
        assert history["customers"] == 20 and history["charges"] > 0

        first = _touched(control.post("mutate", {"updates": 4, "creates": 2, "resources": STREAMS}))
        assert first.get("customers") and first.get("charges")
        output.until(_emitted(output, first))
        # Time passes (Stripe's clock too) before the last changes: a restart's overlap then cannot reach the first.
        control.post("clock", {"advance_seconds": SECOND_LONGER_THAN_THE_OVERLAP})
        last = _touched(control.post("mutate", {"updates": 2, "creates": 1, "resources": STREAMS}))
        output.until(_emitted(output, last))
        time.sleep(2.5)  # two more polls with nothing new: the overlap must not repeat what went out

        proc.send_signal(signal.SIGTERM)
        messages = output.rest()
        returncode = proc.wait(timeout=30)

    log_text = log_path.read_text()
    assert returncode == 0, log_text[-3000:]
    assert messages[-1]["type"] == "STATE", "the last line is the final STATE"
    # Every change was emitted once: history once, each mutation's change once (no repeat from the overlap).
    for stream in STREAMS:
        counts: dict[str, int] = {}
        for record in output.records(stream):
            counts[record["id"]] = counts.get(record["id"], 0) + 1
        changed = set(first.get(stream, [])) | set(last.get(stream, []))
        repeated = {i: n for i, n in counts.items() if n > 1 and i not in changed}
        assert not repeated, f"{stream}: unchanged objects emitted again: {repeated}"
        assert all(n <= 3 for n in counts.values()), f"{stream}: a change emitted more than once: {counts}"
    assert len(output.records("customers")) == history["customers"] + len(first["customers"]) + len(last["customers"])
    assert "stopped by SIGTERM after its last poll" in log_text

    # A change made while the tap is stopped, then a restart (a batch run) from the final STATE.
    stopped = _touched(control.post("mutate", {"updates": 2, "resources": STREAMS}))
    restart = run_tap(tap_config(own_emulator.url), state=messages[-1]["value"], streams=STREAMS)
    assert restart.returncode == 0, restart.stderr[-3000:]
    for stream in STREAMS:
        got = set(restart.ids(stream))
        assert set(stopped.get(stream, [])) <= got, f"{stream}: the restart missed a change made while stopped"
        allowed = set(stopped.get(stream, [])) | set(last.get(stream, []))
        assert got <= allowed, f"{stream}: the restart repeated more than the last poll: {got - allowed}"
