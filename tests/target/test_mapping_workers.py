"""`mapping_workers`: the same output with worker processes as without, and a run that loses one, or is stopped
by Ctrl-C, ends non-zero without a STATE past what landed.

The target runs as the CLI in `output_dir` mode on an input of odd records (repairs, mapping rejects, records
rejected before mapping), over a few chunks of `mapping_workers.CHUNK_RECORDS`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from target_aep.mapping_workers.pool import CHUNK_RECORDS
from tests.target.conftest import REPO, SCHEMA_FILE_BY_DATASET, XDM_DIR, dataset_for, run_target
from tests.target.test_compiled_mapping import SAMPLES, _mutate
from tests.target.write_singer_files import schema_message

pytestmark = pytest.mark.timeout(90)

STREAMS = ("charges", "customers", "invoices", "products", "refunds", "checkout_sessions")


def _odd_input(records: int, seed: int = 3) -> list[str]:
    """SCHEMA lines, then `records` odd records of `STREAMS` (unique ids), a STATE every 500 records."""
    rng = random.Random(seed)
    lines = [json.dumps(schema_message(stream)) for stream in STREAMS]
    for n in range(records):
        stream = rng.choice(STREAMS)
        record = _mutate(rng.choice(SAMPLES[stream]), rng)
        if isinstance(record.get("id"), str):
            record["id"] = f"{record['id']}_{n}"
        lines.append(json.dumps({"type": "RECORD", "stream": stream, "record": record}))
        if n % 500 == 499:
            lines.append(json.dumps({"type": "STATE", "value": {"bookmark": n}}))
    lines.append(json.dumps({"type": "STATE", "value": {"bookmark": "end"}}))
    return lines


def _config(tmp_path: Path, workers: int, **overrides: object) -> dict:
    return {
        "output_dir": str(tmp_path / "out"),
        "tenant_id": "acme",
        "datasets": {stream: {"dataset_id": dataset_for(stream)} for stream in STREAMS},
        "local_schemas": {dataset: str(XDM_DIR / name) for dataset, name in SCHEMA_FILE_BY_DATASET.items()},
        "dead_letter_path": str(tmp_path / "rejected.jsonl"),
        "repairs_path": str(tmp_path / "repairs.jsonl"),
        "report_path": str(tmp_path / "report.html"),
        "mapping_workers": workers,
        **overrides,
    }


def _dead_letters(path: Path) -> list[dict]:
    entries = [json.loads(line) for line in path.read_text().split("\n") if line]  # not splitlines: U+2028
    for entry in entries:
        entry.pop("time")
    return entries


def test_workers_give_the_output_of_a_run_without_them(tmp_path: Path) -> None:
    text = "\n".join(_odd_input(6 * CHUNK_RECORDS)) + "\n"
    runs = {}
    for workers in (0, 2):
        run_dir = tmp_path / f"workers-{workers}"
        run_dir.mkdir()
        run = run_target(_config(run_dir, workers, batch_max_records=300), text, run_dir)
        assert run.returncode == 0, run.stderr[-3000:]
        runs[workers] = run
    assert "mapping: 0 records in 2 worker" not in runs[2].stderr and "records in 2 worker process" in runs[2].stderr
    without, with_workers = tmp_path / "workers-0", tmp_path / "workers-2"
    assert runs[2].states == runs[0].states == [{"bookmark": "end"}]
    files = sorted(path.name for path in (without / "out").iterdir())
    assert files == sorted(path.name for path in (with_workers / "out").iterdir()) and len(files) == 3
    for name in files:
        # Streams sharing a dataset share its file, and their batches are written in whichever order they are
        # delivered: each line is compared, not the order of the streams' batches.
        expected = sorted((without / "out" / name).read_bytes().split(b"\n"))
        assert sorted((with_workers / "out" / name).read_bytes().split(b"\n")) == expected
    # Rejects and repairs: the same lines in the same order (those rejected before mapping in their places).
    rejects = _dead_letters(without / "rejected.jsonl")
    assert _dead_letters(with_workers / "rejected.jsonl") == rejects
    assert {e["reasons"][0].split(":")[0] for e in rejects} >= {"missing key property id", "XDM validation"}
    repairs = (without / "repairs.jsonl").read_text()
    assert (with_workers / "repairs.jsonl").read_text() == repairs and repairs.count("\n") > 100
    reports = [json.loads((tmp_path / f"workers-{w}" / "report.json").read_text()) for w in (0, 2)]
    for report in reports:
        for stream in report["streams"]:
            stream.pop("dataset")  # the output file, in each run's own folder
    assert reports[0]["totals"] == reports[1]["totals"]
    assert reports[0]["streams"] == reports[1]["streams"]
    assert reports[0]["repairs"] == reports[1]["repairs"] and reports[0]["rejects"] == reports[1]["rejects"]
    # The fields a worker found no place for reach the end-of-run log as the main process's own do.
    unplaced = [_unplaced_lines(runs[w].stderr) for w in (0, 2)]
    assert unplaced[0] == unplaced[1] and unplaced[0]


def _unplaced_lines(log: str) -> list[str]:
    return [line.split("| ")[-1] for line in log.splitlines() if "fields with no place in XDM" in line]


def _start(tmp_path: Path, config: dict) -> tuple[subprocess.Popen[str], Path]:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    log_path = tmp_path / "target.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log_path.open("w"),
        text=True,
        cwd=REPO,
        start_new_session=True,  # its own process group, as a pipeline in a terminal: Ctrl-C reaches all of it
    )
    return process, log_path


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux's /proc: nothing to install)."""
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def _workers_of(process: subprocess.Popen[str]) -> list[int]:
    deadline = time.monotonic() + 20
    while not (children := _children(process.pid)):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    return children


def _write(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("\n".join(lines) + "\n")
    process.stdin.flush()


def test_a_worker_that_dies_fails_the_run_without_state(tmp_path: Path) -> None:
    lines = _odd_input(8 * CHUNK_RECORDS)
    process, log_path = _start(tmp_path, _config(tmp_path, 1))
    (worker,) = _workers_of(process)
    _write(process, lines[: len(lines) // 2])  # a STATE among them
    time.sleep(0.5)
    os.kill(worker, signal.SIGKILL)
    _wait_gone(worker)
    try:
        _write(process, lines[len(lines) // 2 :])
        process.stdin.close()  # type: ignore[union-attr]
    except BrokenPipeError:
        pass  # the target stopped first
    stdout = process.stdout.read()  # type: ignore[union-attr]
    returncode = process.wait(30)
    log = log_path.read_text()
    assert returncode == 1, log[-3000:]
    assert stdout == "", "a STATE was written for records a dead worker held"
    assert f"mapping worker process {worker} stopped (killed by signal 9)" in log
    assert "Traceback" not in log
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["outcome"]["status"] == "failed" and report["totals"]["landed"] == 0


def test_ctrl_c_exits_130_and_the_workers_go_too(tmp_path: Path) -> None:
    lines = _odd_input(4 * CHUNK_RECORDS)
    process, log_path = _start(tmp_path, _config(tmp_path, 1))
    (worker,) = _workers_of(process)
    _write(process, lines)  # input left open: the target waits for more
    time.sleep(1)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    stdout = process.stdout.read()  # type: ignore[union-attr]
    returncode = process.wait(30)
    log = log_path.read_text()
    assert returncode == 130, log[-3000:]
    assert stdout == ""
    assert "Traceback" not in log and "KeyboardInterrupt" not in log
    _wait_gone(worker)


def _wait_gone(worker: int) -> None:
    """Until `worker` has exited (a zombie until the target, its parent, reaps it, if the target still runs)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            state = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        assert time.monotonic() < deadline, f"mapping worker {worker} still running"
        time.sleep(0.05)


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 1), (4, 3), (64, 3), (None, 0)])
def test_the_default_number_of_workers_follows_the_cores_up_to_three(
    cores: int | None, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from target_aep.mapping_workers import pool as mapping_workers

    monkeypatch.setattr(mapping_workers.os, "cpu_count", lambda: cores)
    assert mapping_workers.default_worker_count() == workers
