"""The `mapping_workers` default uses its workers on demand: a tap at live pace is mapped in the main process (no
CPU taken from the tap beside it), a backfill from a file still goes to the worker, and both land in AEP what a run
on one core lands (the same rows in each dataset, the same STATE, the same dead letters).

The target runs as the CLI in batch mode against the AEP emulator, on the odd records of `test_mapping_workers`
(repairs, mapping rejects, records rejected before mapping), over three chunks of `CHUNK_RECORDS_HERE`.
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

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(default_worker_count() == 0, reason="one core: the default has no worker to use on demand"),
]
DATASETS = sorted(SCHEMA_FILE_BY_DATASET)
MAPPED = re.compile(r"mapping: (\d+) records in (\d+) worker process\(es\), (\d+) in the main process")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return _odd_input(3 * CHUNK_RECORDS_HERE)


def _run(aep: AEP, run_dir: Path, feed: str | list[str], **settings: object) -> tuple[dict, list[dict]]:
    """The target on the input file ``feed`` (stdin is the file, as in ``target-aep < file``), or on ``feed``'s
    lines written to its stdin pipe a few at a time, as a tap at live pace writes them. Returns the rows landed
    per dataset (sorted), the STATE lines and the dead letters; and from the log, the records mapped
    in workers, the workers and the records mapped in the main process."""
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
    mapped = MAPPED.search(text)
    assert mapped, text[-3000:]
    landed = {d: sorted(json.dumps(row, sort_keys=True) for row in aep.landed(d)[before[d] :]) for d in DATASETS}
    return {
        "landed": landed,
        "states": [json.loads(line) for line in stdout.splitlines() if line.strip()],
        "dead letters": _dead_letters(run_dir / "rejected.jsonl"),
    }, [int(n) for n in mapped.groups()]


def test_a_tap_at_live_pace_is_mapped_in_the_main_process_and_a_file_by_the_worker(
    aep: AEP, tmp_path: Path, lines: list[str]
) -> None:
    one_core, (in_workers, workers, here) = _run(aep, tmp_path / "one-core", lines, mapping_workers=0)
    assert (in_workers, workers) == (0, 0) and here > 2 * CHUNK_RECORDS_HERE
    assert sum(map(len, one_core["landed"].values())) > 2000 and len(one_core["dead letters"]) > 50
    assert one_core["states"][-1] == {"bookmark": "end"}

    # A tap at live pace: no read is full, the worker (forked, idle) is given nothing.
    paced, (in_workers, workers, paced_here) = _run(aep, tmp_path / "paced", lines)
    assert paced == one_core
    assert (in_workers, workers, paced_here) == (0, default_worker_count(), here)

    # A backfill from a file: every read is full, the worker takes chunks as before.
    input_file = tmp_path / "input.singer"
    input_file.write_text("\n".join(lines) + "\n")
    backfill, (in_workers, workers, file_here) = _run(aep, tmp_path / "file", str(input_file))
    assert backfill == one_core
    assert in_workers >= CHUNK_RECORDS_HERE and in_workers + file_here == here
