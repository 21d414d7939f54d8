"""`make demo`: the whole main job on the local emulators, twice, then a summary a person wants to read.

1. start the Stripe emulator seeded with a realistic account and the AEP emulator (free ports, `.demo/`);
2. `meltano install`, then `meltano run tap-stripe-aep target-aep` (a full first run);
3. apply updates, deletions and creations in the Stripe emulator, and run again: only the changes travel;
4. print, per stream, records read in each run; per dataset, records landed and rejected; where rejects are;
   the time taken. Both emulators are stopped on the way out, whatever happens.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.generate_plugin_files import EMULATOR_DATASETS  # noqa: E402
from scripts.meltano_pipeline import LocalPipeline, RunResult  # noqa: E402

WORKDIR = REPO_ROOT / ".demo"
CUSTOMERS = 300
CHANGES = {"updates": 40, "deletes": 8, "creates": 25, "remove_items": 3}
DATASET_NAMES = {
    "6650f0c0ffee000000000001": "Stripe customer profiles",
    "6650f0c0ffee000000000002": "Stripe commerce events",
    "6650f0c0ffee000000000003": "Stripe catalog records",
}


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORKDIR, ignore_errors=True)
    print(f"demo: starting the Stripe emulator ({CUSTOMERS} customers and their objects) and the AEP emulator")
    with LocalPipeline(WORKDIR, customers=CUSTOMERS) as pipeline:
        print("demo: meltano install")
        pipeline.install()
        print("demo: run 1: meltano run tap-stripe-aep target-aep (full history)")
        first = _checked(pipeline.run(full_refresh=True), "first run")
        landed_after_first = {ds: len(pipeline.landed(ds)) for ds in DATASET_NAMES}

        touched = pipeline.mutate(**CHANGES)
        changed = sum(len(ids) for kind in touched.values() for ids in kind.values())
        print(f"demo: the Stripe emulator applied {changed} changes {CHANGES}")
        print("demo: run 2: meltano run tap-stripe-aep target-aep (incremental, from Meltano's saved state)")
        second = _checked(pipeline.run(), "second run")
        landed_total = {ds: len(pipeline.landed(ds)) for ds in DATASET_NAMES}
        rejected = Counter(entry.get("stream", "?") for entry in pipeline.rejected())

        _print_summary(first, second, landed_after_first, landed_total, rejected, pipeline)
    print(f"\ndemo: done in {time.monotonic() - started:.0f} s; both emulators stopped.")
    return 0


def _checked(result: RunResult, what: str) -> RunResult:
    if result.returncode != 0:
        print(result.log[-6000:], file=sys.stderr)
        raise SystemExit(f"demo: the {what} failed (exit {result.returncode}); Meltano's log is above")
    return result


def _print_summary(
    first: RunResult,
    second: RunResult,
    landed_first: dict[str, int],
    landed_total: dict[str, int],
    rejected: Counter[str],
    pipeline: LocalPipeline,
) -> None:
    streams = sorted(set(first.records_read) | set(second.records_read))
    print("\nRecords read from Stripe, per stream")
    print(f"  {'stream':<22} {'run 1':>8} {'run 2':>8}")
    for stream in streams:
        print(f"  {stream:<22} {first.records_read[stream]:>8} {second.records_read[stream]:>8}")
    print(f"  {'total':<22} {sum(first.records_read.values()):>8} {sum(second.records_read.values()):>8}")

    print("\nRecords landed in AEP, per dataset")
    print(f"  {'dataset':<42} {'run 1':>8} {'run 2':>8} {'rejected':>9}")
    for dataset_id, name in DATASET_NAMES.items():
        streams_here = [s for s, ds in EMULATOR_DATASETS.items() if ds == dataset_id]
        rejects = sum(rejected[s] for s in streams_here)
        second_run = landed_total[dataset_id] - landed_first[dataset_id]
        print(f"  {name + ' (' + dataset_id[-4:] + ')':<42} {landed_first[dataset_id]:>8} {second_run:>8} {rejects:>9}")
    where = pipeline.dead_letter_path if rejected else "none rejected"
    print(f"\nRejected records (with their reasons): {where}")
    print(f"What landed, as JSON lines per dataset: {pipeline.store}")
    print(f"Run 1 took {first.seconds:.0f} s, run 2 took {second.seconds:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())
