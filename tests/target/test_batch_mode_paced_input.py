"""Batch mode against the AEP emulator lands the same rows whatever the input's pace and the workers: a tap at live
pace through a pipe, a file, one core or the default worker; and records whose ``updated`` is not a time (bad
data in a field the mapping does not need) land instead of crashing the run (they were counted as live changes,
whose latency the target could not compute). The end-of-run log says how the input was read (reads, full ones).

The target runs as the CLI on the odd records of `test_mapping_workers` (repairs, mapping rejects, records rejected
before mapping, odd ``updated`` values), over three chunks of `CHUNK_RECORDS_HERE`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from target_aep.mapping_workers.pool import CHUNK_RECORDS_HERE, default_worker_count
from tests.target.conftest import AEP, REPO, SCHEMA_FILE_BY_DATASET, dataset_for
from tests.target.test_mapping_workers import STREAMS, _dead_letters, _odd_input

pytestmark = pytest.mark.timeout(120)
DATASETS = sorted(SCHEMA_FILE_BY_DATASET)
MAPPED = re.compile(r"mapping: (\d+) records in (\d+) worker process\(es\), (\d+) in the main process")
READS = re.compile(r"input: (\d+) reads, (\d+) of them full")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return _odd_input(3 * CHUNK_RECORDS_HERE)


def _run(aep: AEP, run_dir: Path, feed: str | list[str], **settings: object) -> tuple[dict, list[dict]]:
    """The target on the input file ``feed`` (stdin is the file, as in ``target-aep < file``), or on ``feed``'s
    lines written to its stdin pipe a few at a time, as a tap at live pace writes them. Returns the rows landed
    per dataset (sorted), the STATE lines and the dead letters; and from the log, the records mapped in workers,
    the workers, the records mapped in the main process, the input's reads and how many were full."""
    run_dir.mkdir()
    config = aep.config(run_dir, datasets={stream: {"dataset_id": dataset_for(stream)} for stream in STREAMS})
    config_path = run_dir / "config.json"
    config_path.write_text(json.dumps({**config, **settings}))
    before = aep.landed_counts()
    command = [sys.executable, "-m", "target_aep.target", "--config", str(config_path)]
    log = run_dir / "target.log"
    with log.open("w") as stderr:
        if isinstance(feed, str):
            with open(feed, "rb") as stdin:
                done = subprocess.run(command, stdin=stdin, capture_output=False, stdout=subprocess.PIPE,
                                      stderr=stderr, cwd=REPO, timeout=90, check=False)  # fmt: skip
            returncode, stdout = done.returncode, done.stdout.decode()
        else:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                       cwd=REPO, text=True)  # fmt: skip
            assert process.stdin is not None and process.stdout is not None
            for start in range(0, len(feed), 10):  # about 1,000 records a second, 10-40 KB a write
                process.stdin.write("\n".join(feed[start : start + 10]) + "\n")
                process.stdin.flush()
                time.sleep(0.01)
            process.stdin.close()
            stdout, returncode = process.stdout.read(), process.wait(60)
    text = log.read_text()
    assert returncode == 0, text[-3000:]
    mapped, reads = MAPPED.search(text), READS.search(text)
    assert mapped and reads, text[-3000:]
    landed = {d: sorted(json.dumps(row, sort_keys=True) for row in aep.landed(d)[before[d] :]) for d in DATASETS}
    return {
        "landed": landed,
        "states": [json.loads(line) for line in stdout.splitlines() if line.strip()],
        "dead letters": _dead_letters(run_dir / "rejected.jsonl"),
    }, [int(n) for n in mapped.groups() + reads.groups()]


def test_the_same_rows_land_at_live_pace_and_from_a_file_with_or_without_workers(
    aep: AEP, tmp_path: Path, lines: list[str]
) -> None:
    one_core, (in_workers, workers, here, _, _) = _run(aep, tmp_path / "one-core", lines, mapping_workers=0)
    assert (in_workers, workers) == (0, 0) and here > 2 * CHUNK_RECORDS_HERE
    assert sum(map(len, one_core["landed"].values())) > 2000 and len(one_core["dead letters"]) > 50
    assert one_core["states"][-1] == {"bookmark": "end"}
    assert any(json.loads(line).get("record", {}).get("updated") == "cus_123" for line in lines)  # not a time

    # A tap at live pace, the default's workers: the pipe is rarely full (a write over 64 KB fills it).
    paced, (in_workers, workers, paced_here, reads, full) = _run(aep, tmp_path / "paced", lines)
    assert paced == one_core
    assert (workers, in_workers + paced_here) == (default_worker_count(), here)
    assert reads > 100 and full < reads / 10

    # A file: every read but the last is full.
    input_file = tmp_path / "input.singer"
    input_file.write_text("\n".join(lines) + "\n")
    backfill, (in_workers, workers, file_here, reads, full) = _run(aep, tmp_path / "file", str(input_file))
    assert backfill == one_core
    assert in_workers + file_here == here and full == reads - 1 == len(input_file.read_bytes()) // (1 << 16)
