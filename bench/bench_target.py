"""Target benchmark: 100,000 realistic Stripe records through ``target-aep`` to the AEP emulator, batch mode.

``python -m bench target`` (or ``make bench``). Records are the sample records of every stream
(``tests/data_files/stripe_records``) repeated with new ids and perturbed amounts and times, written as one Singer
file, then piped to the target CLI. Prints records/s, wall time, the target's peak RSS, and the share of time in
mapping, validation, serialization and HTTP (from the target's own end-of-run stage timers).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from emulators.launch import aep_emulator  # noqa: E402
from tests.target.conftest import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_ID,
    SCHEMA_FILE_BY_DATASET,
    dataset_for,
)
from tests.target.write_singer_files import sample_records, schema_message  # noqa: E402

STAGE_LINE = re.compile(r"time by stage: (.*)$", re.MULTILINE)
PHASE_LINE = re.compile(r"input read in ([\d.]+) s; every delivery confirmed ([\d.]+) s after")


def write_input(path: Path, total: int) -> int:
    """Singer file with ``total`` records spread over every stream in proportion to a real account."""
    samples = sample_records()
    streams = sorted(samples)
    count = 0
    with path.open("w") as out:
        for stream in streams:
            out.write(json.dumps(schema_message(stream)) + "\n")
        round_number = 0
        while count < total:
            for stream in streams:
                for record in samples[stream]:
                    if count >= total:
                        break
                    copy = dict(record)
                    copy["id"] = f"{record['id']}_{round_number:06d}"
                    if isinstance(copy.get("amount"), int):
                        copy["amount"] = copy["amount"] + round_number % 997
                    if isinstance(copy.get("created"), str) and len(copy["created"]) >= 19:
                        copy["created"] = f"{copy['created'][:17]}{round_number % 60:02d}Z"
                    out.write(json.dumps({"type": "RECORD", "stream": stream, "record": copy}) + "\n")
                    count += 1
            if round_number % 50 == 0:
                out.write(json.dumps({"type": "STATE", "value": {"round": round_number}}) + "\n")
            round_number += 1
        out.write(json.dumps({"type": "STATE", "value": {"round": round_number, "done": True}}) + "\n")
    return count


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench target")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-max-records", type=int, default=50_000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-target-") as tmp:
        tmp_dir = Path(tmp)
        input_path = tmp_dir / "input.singer"
        written = write_input(input_path, args.records)
        streams = sorted(sample_records())
        with aep_emulator(store=tmp_dir / "store", sandbox_preset="stripe") as emulator:
            config = {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "org_id": ORG_ID,
                "ims_url": emulator.url,
                "platform_url": emulator.url,
                "streaming_url": emulator.url,
                "datasets": {s: {"dataset_id": dataset_for(s)} for s in streams},
                "dead_letter_path": str(tmp_dir / "rejected.jsonl"),
                "report_path": str(tmp_dir / "report.html"),
                "batch_max_records": args.batch_max_records,
            }
            config_path = tmp_dir / "config.json"
            config_path.write_text(json.dumps(config))
            started = time.perf_counter()
            with input_path.open() as stdin:
                completed = subprocess.run(
                    [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
                    stdin=stdin,
                    capture_output=True,
                    text=True,
                    cwd=REPO,
                    check=False,
                )
            wall = time.perf_counter() - started
            peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            from emulators.aep.store import read_landed

            landed = sum(len(read_landed(tmp_dir / "store", d)) for d in SCHEMA_FILE_BY_DATASET)
        if completed.returncode != 0:
            print(completed.stderr[-3000:])
            raise SystemExit(f"target exited {completed.returncode}")
        rejected = sum(1 for _ in (tmp_dir / "rejected.jsonl").open()) if (tmp_dir / "rejected.jsonl").exists() else 0

    stages = {}
    match = STAGE_LINE.search(completed.stderr)
    if match:
        for part in match.group(1).split(", "):
            name, seconds, _ = part.split(" ")
            stages[name] = float(seconds)
    print(f"records in: {written}, landed: {landed}, rejected: {rejected}")
    print(f"wall time: {wall:.1f} s, {written / wall:,.0f} records/s, target peak RSS: {peak_rss_mb:.0f} MB")
    # mapping, validation and serialization run on the reading thread; http is summed over the SDK's parallel
    # drain threads (up to 8) and includes AEP's batch processing while polling, so it can overlap the others.
    total = sum(stages.values()) or 1.0
    print("time by stage (share of the stage total; share of wall):")
    for name in ("mapping", "validation", "serialization", "http"):
        seconds = stages.get(name, 0.0)
        print(f"  {name:<14} {seconds:6.2f} s  {seconds / total:6.1%}  {seconds / wall:6.1%}")
    phases = PHASE_LINE.search(completed.stderr)
    if phases:
        read, tail = float(phases.group(1)), float(phases.group(2))
        cpu = sum(stages.get(n, 0.0) for n in ("mapping", "validation", "serialization"))
        print(f"input read in {read:.2f} s (of which SDK read/dispatch outside our stages {read - cpu:.2f} s);")
        print(f"reading rate (what keeps up with a tap): {written / read:,.0f} records/s;")
        print(f"last deliveries confirmed {tail:.2f} s after the end of input; start-up {wall - read - tail:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
