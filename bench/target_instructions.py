"""Instructions the target's CLI executes, batch mode against ``output_dir`` mode: a deterministic count for deciding.

``python -m bench.target_instructions [--records 15000]`` (needs valgrind; about a minute a run on this machine).

Why: the one-core figure (``bench_target --mapping-workers 0``, records a CPU second) moves by several percent with
the machine's load, and more in batch mode, whose runs share the cores with the AEP emulator validating each batch.
A change of 1-3% cannot be told from that noise in a few pairs. ``valgrind --tool=cachegrind --cache-sim=no``
counts the instructions of the target's process (every thread, not the emulator, which is a process of its own)
whatever the load. The target runs as ``bench_target`` runs it (byte-compiled, the same config, one core:
``mapping_workers`` 0), on the benchmark's input cut to ``--records`` records, in both modes, then on its
SCHEMA messages alone: batch mode's extra over ``output_dir`` mode, split into a fixed part (the IMS token, the
Catalog and Schema Registry calls) and the part that grows with the run (building, uploading, completing and
polling the batches, a key kept per record to name a refused row). Under valgrind a run is about 50 times
slower; the emulator answers as fast as ever, and no AEP or HTTP timeout comes near.

Python's string hashes are fixed (``PYTHONHASHSEED=0``): with random ones the dicts' collisions move a count by a
few million between two runs of the same code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_target import target_config, write_input  # noqa: E402
from bench.installed_bytecode import compile_installed_packages  # noqa: E402
from emulators.launch import aep_emulator  # noqa: E402

I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(config: dict, input_path: Path, tmp_dir: Path) -> int:
    """The instructions (cachegrind's "I refs") of one run of the target's CLI on ``input_path``."""
    config_path = tmp_dir / "config.json"
    config_path.write_text(json.dumps(config))
    log = tmp_dir / "valgrind.log"
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={tmp_dir / 'cachegrind.out'}",
        f"--log-file={log}",
        sys.executable,
        "-m",
        "target_aep.target",
        "--config",
        str(config_path),
    ]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    with input_path.open("rb") as stdin, (tmp_dir / "stderr.log").open("wb") as stderr:
        done = subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr, cwd=REPO, env=environment)
    if done.returncode != 0:
        raise SystemExit(f"target exited {done.returncode}: {(tmp_dir / 'stderr.log').read_text()[-2000:]}")
    found = I_REFS.findall(log.read_text())
    if not found:
        raise SystemExit(f"no instruction count in {log}")
    return int(found[-1].replace(",", ""))


def count(mode: str, input_path: Path, batch_max_records: int) -> int:
    """Instructions of one run in ``mode`` (``batch``: to a fresh AEP emulator; ``output_dir``: local files)."""
    with tempfile.TemporaryDirectory(prefix="target-instructions-") as tmp:
        tmp_dir = Path(tmp)
        if mode == "output_dir":
            return instructions(target_config(tmp_dir, batch_max_records, 0), input_path, tmp_dir)
        with aep_emulator(store=tmp_dir / "store", sandbox_preset="stripe") as emulator:
            config = target_config(tmp_dir, batch_max_records, 0, emulator.url)
            return instructions(config, input_path, tmp_dir)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.target_instructions")
    parser.add_argument("--records", type=int, default=15_000)
    parser.add_argument("--batch-max-records", type=int, default=50_000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    print(compile_installed_packages(), flush=True)
    counts: dict[tuple[str, int], int] = {}
    with tempfile.TemporaryDirectory(prefix="target-instructions-input-") as tmp:
        for records in (args.records, 0):
            input_path = Path(tmp) / f"input-{records}.singer"
            write_input(input_path, records)
            for mode in ("output_dir", "batch"):
                counts[mode, records] = count(mode, input_path, args.batch_max_records)
                print(f"{mode}, {records:,} records: {counts[mode, records]:,} instructions", flush=True)
    fixed = counts["batch", 0] - counts["output_dir", 0]
    extra = counts["batch", args.records] - counts["output_dir", args.records]
    per_record = (extra - fixed) / max(args.records, 1)
    print(
        f"batch mode's extra over output_dir: {extra:,} instructions "
        f"({100 * extra / counts['output_dir', args.records]:.1f}%): {fixed:,} fixed (no records), "
        f"{per_record:,.0f} a record (batches, uploads, polls and keys, spread over the records)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
