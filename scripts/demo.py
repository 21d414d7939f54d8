"""`make demo`: from an empty AEP sandbox to two pipeline runs, then a summary a person wants to read.

1. start the Stripe emulator seeded with a realistic account and the AEP emulator with an empty sandbox (free
   ports, `.demo/`);
2. `meltano install`, then `meltano invoke target-aep:setup --apply --datasets-out .demo/datasets.json`: the plan,
   and the schemas, field group, identity namespace and datasets it creates; the target then uses those datasets;
3. `meltano run tap-stripe-aep target-aep` (a full first run);
4. apply updates, deletions and creations in the Stripe emulator, and run again: only the changes travel;
5. set-up again: nothing to do;
6. print, per stream, records read in each run; per dataset, records landed and rejected; where rejects are;
   the time taken; where each run's report is (the target's HTML run report and its JSON, kept per run).
   Both emulators are stopped on the way out, whatever happens.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from scripts.meltano_pipeline import LocalPipeline, RunResult  # noqa: E402
from target_aep.setup.desired import ROLES, Names, default_routing  # noqa: E402

WORKDIR = REPO_ROOT / ".demo"
CUSTOMERS = 300
# "billing": each billing and customer change case of issue 9 (H8), some without any Stripe event.
CHANGES = {"updates": 40, "deletes": 8, "creates": 25, "remove_items": 3, "billing": 2}
DATASET_NAMES = {
    "profile": Names().profile_dataset,
    "experienceevent": Names().event_dataset,
    "record": Names().record_dataset,
}


DEMO_CONNECTED_ACCOUNTS = "acct_demo_shop_berlin,acct_demo_shop_tokyo"


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORKDIR, ignore_errors=True)
    print(f"demo: starting the Stripe emulator ({CUSTOMERS} customers and their objects) and the AEP emulator")
    print("      (an empty sandbox: only Adobe's standard classes, field groups and identity namespaces)")
    # Two connected accounts, so the platform's Connect streams (accounts, persons, bank accounts) have data.
    with LocalPipeline(WORKDIR, customers=CUSTOMERS, aep_preset=None, accounts=DEMO_CONNECTED_ACCOUNTS) as pipeline:
        print("demo: meltano install")
        pipeline.install()
        print("demo: meltano invoke target-aep:setup --apply --datasets-out .demo/datasets.json")
        _print_setup(pipeline, "set-up")
        dataset_names = _dataset_names(pipeline)
        print("demo: run 1: meltano run tap-stripe-aep target-aep (full history)")
        first = _checked(pipeline.run(full_refresh=True), "first run")
        reports = [_keep_report(pipeline, 1)]
        landed_after_first = {ds: len(pipeline.landed(ds)) for ds in dataset_names}

        touched = pipeline.mutate(**CHANGES)
        changed = _count_ids(touched)
        print(f"demo: the Stripe emulator applied {changed} changes {CHANGES}")
        print("demo: run 2: meltano run tap-stripe-aep target-aep (incremental, from Meltano's saved state)")
        second = _checked(pipeline.run(), "second run")
        reports.append(_keep_report(pipeline, 2))
        landed_total = {ds: len(pipeline.landed(ds)) for ds in dataset_names}
        rejected = Counter(entry.get("stream", "?") for entry in pipeline.rejected())
        print("demo: meltano invoke target-aep:setup --apply (again: the sandbox is ready)")
        _print_setup(pipeline, "second set-up")

        _print_summary(first, second, landed_after_first, landed_total, rejected, pipeline, dataset_names)
        _print_reports(reports)
    print(f"\ndemo: done in {time.monotonic() - started:.0f} s; both emulators stopped.")
    return 0


def _print_setup(pipeline: LocalPipeline, what: str) -> None:
    """Run set-up with --apply and show its own output (the plan and what it did), indented; stop if it failed."""
    started = time.monotonic()
    done = pipeline.setup("--apply")
    print("\n".join(f"    {line}" for line in done.stdout.rstrip().splitlines()))
    print(f"demo: {what} took {time.monotonic() - started:.0f} s (with Meltano's start-up)")
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"demo: the {what} failed (exit {done.returncode}); its error is above")


def _dataset_names(pipeline: LocalPipeline) -> dict[str, str]:
    """Dataset id -> name, from the datasets setting set-up wrote (one dataset per XDM class)."""
    assert pipeline.datasets is not None
    routing = default_routing()
    return {pipeline.datasets[routing[role][0]]["dataset_id"]: DATASET_NAMES[role] for role in ROLES}


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
    dataset_names: dict[str, str],
) -> None:
    streams = sorted(set(first.records_read) | set(second.records_read))
    print("\nRecords read from Stripe, per stream")
    print(f"  {'stream':<30} {'run 1':>8} {'run 2':>8}")
    for stream in streams:
        print(f"  {stream:<30} {first.records_read[stream]:>8} {second.records_read[stream]:>8}")
    print(f"  {'total':<30} {sum(first.records_read.values()):>8} {sum(second.records_read.values()):>8}")

    print("\nRecords landed in AEP, per dataset")
    print(f"  {'dataset':<42} {'run 1':>8} {'run 2':>8} {'rejected':>9}")
    for dataset_id, name in dataset_names.items():
        streams_here = [s for s, entry in (pipeline.datasets or {}).items() if entry["dataset_id"] == dataset_id]
        rejects = sum(rejected[s] for s in streams_here)
        second_run = landed_total[dataset_id] - landed_first[dataset_id]
        print(f"  {name + ' (' + dataset_id[-4:] + ')':<42} {landed_first[dataset_id]:>8} {second_run:>8} {rejects:>9}")
    where = pipeline.dead_letter_path if rejected else "none rejected"
    print(f"\nRejected records (with their reasons): {where}")
    print(f"What landed, as JSON lines per dataset: {pipeline.store}")
    print(f"Run 1 took {first.seconds:.0f} s, run 2 took {second.seconds:.0f} s.")


def _keep_report(pipeline: LocalPipeline, run: int) -> Path:
    """Keep the run report the target wrote for this run (the next run writes the same path)."""
    kept = pipeline.report_path.with_name(f"run-{run}-report.html")
    shutil.copyfile(pipeline.report_path, kept)
    shutil.copyfile(pipeline.report_path.with_suffix(".json"), kept.with_suffix(".json"))
    return kept


def _print_reports(reports: list[Path]) -> None:
    print("\nRun reports (open in a browser; the same figures as JSON beside each)")
    for number, path in enumerate(reports, start=1):
        document = json.loads(path.with_suffix(".json").read_text())
        totals = document["totals"]
        print(
            f"  run {number}: {path}  ({document['run']['outcome']['status']}: received {totals['received']}, "
            f"landed {totals['landed']}, repaired {totals['repaired']}, rejected {totals['rejected']})"
        )


def _count_ids(touched: object) -> int:
    """Object ids in the emulator's answer to a mutation (lists of ids, nested by kind and stream)."""
    if isinstance(touched, list):
        return len(touched)
    if isinstance(touched, dict):
        return sum(_count_ids(value) for key, value in touched.items() if key != "silent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
