"""SIGINT / SIGTERM mid-backfill: exit 130 / 143 after a STATE a resume can trust, and the resume reads the rest.

The SDK's own handler exits 0, so an interrupted run looked like a success and no scheduler retried it.
"""

from __future__ import annotations

import io
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from singer_sdk.singerlib.messages import RecordMessage

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.interruption import SignalGate
from tap_stripe_aep.writer import FastSingerWriter
from tests.tap.tap_runner import Control, run_tap, start_tap, tap_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorProcess]:
    """50 ms a request: with 30-day windows and two requests at a time, a backfill of charges takes seconds."""
    with stripe_emulator(customers=60, rate_limit=0, latency_ms=50) as emulator:
        yield emulator


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_backfill_fails_the_run_after_a_state_the_resume_completes(
    signum: signal.Signals, exit_code: int, slow_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = Control(slow_emulator.url)
    control.post("faults", {"latency_ms": 50})
    config = tap_config(slow_emulator.url, backfill_window_days=30, max_concurrency=2)
    expected = {obj["id"] for obj in control.objects("charges")}
    log_path = tmp_path / "tap.log"

    with log_path.open("w") as log:
        proc = start_tap(config, tmp_path, streams=["charges"], stderr=log)
        assert proc.stdout is not None
        seen: set[str] = set()
        states: list[dict] = []
        for line in proc.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                seen.add(message["record"]["id"])
            elif message["type"] == "STATE":
                states.append(message["value"])
            if len(states) >= 2:  # two windows done: well inside a backfill of about 25
                break
        proc.send_signal(signum)
        rest = proc.stdout.read()  # what the tap wrote after the signal, up to its exit
        returncode = proc.wait(timeout=30)

    for line in rest.splitlines():
        message = json.loads(line)  # every line whole: the signal cut no message in two
        if message["type"] == "RECORD":
            seen.add(message["record"]["id"])
        elif message["type"] == "STATE":
            states.append(message["value"])
    log_text = log_path.read_text()
    assert returncode == exit_code, log_text[-2000:]
    assert seen < expected, "the backfill finished before the signal: the test proved nothing"
    assert "Traceback" not in log_text
    stopped = [line for line in log_text.splitlines() if "interrupted by" in line]
    assert len(stopped) == 1 and f"interrupted by {signum.name}" in stopped[0], log_text[-2000:]

    last = states[-1]["bookmarks"]["charges"]["partitions"][0]
    assert last["context"] == {"account_id": "acct_emulator_platform"}
    assert last["backfill_done_through"] <= last["backfill_started_at"], last

    control.post("faults", {"latency_ms": 0})  # the resume may be fast
    resumed = run_tap(config, state=states[-1], streams=["charges"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    again = set(resumed.ids("charges"))
    assert seen | again == expected, f"{len(expected - seen - again)} charges never read"
    assert len(again) < len(expected), "the resume started over instead of at the last finished window"


def test_a_signal_during_a_write_waits_until_the_message_is_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop signal that lands while a line is half written stops the run only once the line is complete."""
    writer = FastSingerWriter()
    output = io.StringIO()
    stops: list[tuple[int, str]] = []
    writer.gate = SignalGate(lambda signum: stops.append((signum, output.getvalue())))

    class SignalMidWrite:
        def write(self, text: str) -> int:
            half = len(text) // 2
            output.write(text[:half])
            writer.gate.on_signal(signal.SIGTERM)  # Python runs the handler here, between two bytecodes
            return output.write(text[half:])

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stdout", SignalMidWrite())
    writer.write_message(RecordMessage(stream="charges", record={"id": "ch_1", "amount": 100}))
    assert len(stops) == 1
    signum, written_when_stopped = stops[0]
    assert signum == signal.SIGTERM
    assert json.loads(written_when_stopped)["record"] == {"id": "ch_1", "amount": 100}

    writer.gate.on_signal(signal.SIGINT)  # between two messages: stops at once
    assert stops[-1][0] == signal.SIGINT
