"""SIGINT / SIGTERM: the target exits 130 / 143 at once, with no STATE line for deliveries AEP has not confirmed.

The SDK's own handler drained every sink (waiting out AEP's batch processing), wrote the latest STATE and exited 0:
an interrupted run looked like a success.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.launch import aep_emulator
from tests.target.conftest import AEP, ALL_STREAMS, REPO, datasets_setting, singer_text, streams_in

pytestmark = pytest.mark.timeout(90)

BATCH_PROCESSING_SECONDS = 4  # longer than the target may take to stop


@pytest.fixture(scope="module")
def slow_aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AEP]:
    """An AEP emulator that takes seconds to process each batch: a signal finds deliveries in flight."""
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(
        store=store, batch_processing_ms=BATCH_PROCESSING_SECONDS * 1000, sandbox_preset="stripe"
    ) as process:
        yield AEP(process, store)


@pytest.mark.parametrize(
    ("signum", "exit_code", "input_ended"),
    [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)],
    ids=["SIGINT-waiting-for-the-last-batches", "SIGTERM-while-reading"],
)
def test_signal_exits_non_zero_at_once_without_state(
    signum: signal.Signals, exit_code: int, input_ended: bool, slow_aep: AEP, tmp_path: Path
) -> None:
    # Mid-input: sinks fill at two records, so deliveries start while input is still being read. At the end of
    # input: every record is buffered, and the deliveries start when the input ends.
    config = slow_aep.config(
        tmp_path,
        datasets=datasets_setting(streams_in(ALL_STREAMS)),
        batch_max_records=50_000 if input_ended else 2,
        poll_timeout_seconds=60,
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    before = slow_aep.stats().get("batches_created", 0)
    log_path = tmp_path / "target.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=REPO,
        )
        assert proc.stdin is not None and proc.stdout is not None
        # Every record is followed by a STATE line in this file. Written from a thread: while deliveries are slow
        # the target reads slowly, and the pipe fills.
        feeder = threading.Thread(target=_feed, args=(proc.stdin, singer_text(ALL_STREAMS), input_ended), daemon=True)
        feeder.start()
        deadline = time.monotonic() + 30
        while slow_aep.stats().get("batches_created", 0) == before:  # a delivery is in flight
            assert time.monotonic() < deadline and proc.poll() is None, log_path.read_text()[-2000:]
            time.sleep(0.05)
        time.sleep(0.3)
        signalled = time.monotonic()
        proc.send_signal(signum)
        stdout = proc.stdout.read()
        returncode = proc.wait(timeout=30)
        stopped_after = time.monotonic() - signalled
    log_text = log_path.read_text()

    assert returncode == exit_code, log_text[-3000:]
    assert stdout == "", f"STATE written for deliveries AEP had not confirmed: {stdout[:300]}"
    assert stopped_after < BATCH_PROCESSING_SECONDS / 2, "the target waited for the batches in flight"
    assert "Traceback" not in log_text
    stopped = [line for line in log_text.splitlines() if "interrupted by" in line]
    assert len(stopped) == 1 and f"target-aep interrupted by {signum.name}" in stopped[0], log_text[-2000:]
    # The run report tells the truth: interrupted, with the exit status the caller saw, nothing counted as landed
    # that AEP had not confirmed.
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["outcome"]["status"] == "interrupted"
    assert report["run"]["outcome"]["exit_code"] == exit_code
    assert report["totals"]["landed"] == 0
    assert report["totals"]["not_confirmed"] == report["totals"]["received"] > 0
    assert 'id="outcome-status">Interrupted<' in (tmp_path / "report.html").read_text()


def _feed(stdin: t.IO[str], text: str, close: bool) -> None:
    try:
        stdin.write(text)
        stdin.flush()
        if close:
            stdin.close()
    except (BrokenPipeError, ValueError):
        pass  # the target stopped first
