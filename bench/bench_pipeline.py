"""Whole-pipe benchmark: Stripe emulator -> tap-stripe-aep | target-aep -> AEP emulator (batch mode), at live pace.

``python -m bench pipeline`` runs the issue 10 set: both data shapes (the even one, and a growing one whose density
doubles every 90 days with two bursty days) at 100 requests/s and 200 ms a request
(Stripe's live mode), the 22 streams of the tap benchmark. For each,
the tap is first run alone (its RECORD lines counted with ``grep -c``, which costs it nothing), then the tap and the
target as the real CLIs joined by a pipe, as on a shell, on the same emulator data. The pipe's objects/s landed in
AEP against the tap's own objects/s says whether the target is the bottleneck: at 100% the pipe goes as fast as the
tap can read Stripe.

``python -m bench.bench_pipeline [--customers N] [--latency-ms 200] [--rate-limit 100] [--growth-doubling-days D]
[--burst-days B] [--mapping-workers N]`` runs one case (``--mapping-workers``: the target's setting, default its
own). On a 2-core machine the four processes share two cores, so the figures are a
floor for a machine where the tap and the target each have a core of their own.

Where the pipe's time beyond the tap's goes is printed too: when the tap wrote its last line, when the target read
it, when its last delivery was confirmed (its run report), the AEP batches it waited for after the tap's last line
(first file, COMPLETE, success read: the emulator's request log) and the target's input reads. Set
``BENCH_PIPELINE_KEEP=DIR`` to keep the run's logs, STATE and run report in DIR.
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
import time
import typing as t
from pathlib import Path

import requests

from bench.bench_tap import CLASSIC_STREAMS
from bench.bench_target import WORKERS_LINE, process_cpu_seconds
from bench.installed_bytecode import compile_installed_packages
from emulators.launch import REPO_ROOT, aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS
from tests.tap.tap_runner import catalog_selecting

BIN = Path(sys.executable).parent
KEY = "sk_test_emulator_0000000000000000"
GROWING = {"growth_doubling_days": 90, "burst_days": 2}
# `python -m bench pipeline`: (label, customers, shape)
SUITE = (("even", 9000, {}), ("growing", 9000, GROWING))
INPUT_READS = re.compile(r"input: (\d+) reads, (\d+) of them full")  # the target's end-of-run log
_BATCH_PATH = re.compile(r"^/data/foundation/(?:import|catalog)/batches/([^/?]+)")
_STORE = shutil.ignore_patterns("store")  # not copied by BENCH_PIPELINE_KEEP: the landed rows


def main(argv: list[str]) -> None:
    if not argv:
        for label, customers, shape in SUITE:
            print(
                f"-- whole pipe, {label} shape, {customers:,} customers, 200 ms a request, 100 req/s, 22 streams",
                flush=True,
            )
            run_case(customers, 200, 100.0, shape)
        return
    parser = argparse.ArgumentParser(prog="bench_pipeline", description=__doc__)
    parser.add_argument("--customers", type=int, default=9000, help="emulator size (about 17 objects each)")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rate-limit", type=float, default=100, help="requests/s (Stripe live mode allows 100)")
    parser.add_argument("--growth-doubling-days", type=float, default=0, help="0: the even shape")
    parser.add_argument("--burst-days", type=int, default=0)
    parser.add_argument("--mapping-workers", type=int, help="the target's mapping_workers (default: its own)")
    args = parser.parse_args(argv)
    print(compile_installed_packages(), flush=True)
    shape = {"growth_doubling_days": args.growth_doubling_days, "burst_days": args.burst_days}
    run_case(args.customers, args.latency_ms, args.rate_limit, {k: v for k, v in shape.items() if v},
             args.mapping_workers)  # fmt: skip


def run_case(
    customers: int, latency_ms: int, rate: float, shape: dict[str, float], mapping_workers: int | None = None
) -> None:
    """The tap alone, then the pipe, on one emulator's data; prints both rates and their ratio."""
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        # prebuilt: the Stripe emulator's object building would otherwise take the pipe's cores (bench_tap)
        stripe_emulator(customers=customers, latency_ms=latency_ms, rate_limit=rate, prebuild=True, **shape) as stripe,
        aep_emulator(store=Path(tmp_name) / "store", sandbox_preset="stripe") as aep,
    ):
        tmp = Path(tmp_name)
        tap_config, target_config = tmp / "tap.json", tmp / "target.json"
        tap_config.write_text(json.dumps({"api_key": KEY, "api_url": stripe.url, "max_requests_per_second": rate}))
        settings = emulator_target_config(aep.url, tmp)
        if mapping_workers is not None:
            settings["mapping_workers"] = mapping_workers
        target_config.write_text(json.dumps(settings))
        catalog = tmp / "catalog.json"  # the 22 streams of the tap benchmark, so the figures compare
        catalog.write_text(json.dumps(catalog_selecting(CLASSIC_STREAMS)))
        tap = (
            f"/usr/bin/time -f 'tap peak RSS %M KB, CPU %U s user %S s system' {BIN}/tap-stripe-aep "
            f"--config {tap_config} --catalog {catalog}"
        )

        alone_wall, alone = _timed(f'set -o pipefail; {tap} 2>{tmp}/tap-alone.log | grep -c \'^{{"type":"RECORD"\'')
        tap_records = int(alone.stdout.strip() or 0)
        # The target's CPU includes its mapping workers' (reaped children): what it takes from the shared cores.
        measured = "/usr/bin/time -f 'target peak RSS %M KB, CPU %U s user %S s system'"
        target = f"{measured} {BIN}/target-aep --config {target_config}"
        # Each process's CPU in the pipe: the tap's and the target's from `time`, the target's main process and
        # workers apart from its own log line, the emulators' from /proc (launch.py offers no pid of its own).
        emulator_pids = {"Stripe emulator": stripe._proc.pid, "AEP emulator": aep._proc.pid}  # type: ignore[union-attr]
        emulator_cpu = {name: -process_cpu_seconds(pid) for name, pid in emulator_pids.items()}
        # The tap's exit time (its last line written) is taken by the shell around it, for the timeline below.
        tap_then_time = f"( {tap} 2>{tmp}/tap.log; code=$?; date +%s.%N >{tmp}/tap-end; exit $code )"
        pipe_started = time.time()
        pipe_wall, pipe = _timed(f"set -o pipefail; {tap_then_time} | {target} 2>{tmp}/target.log >{tmp}/state.jsonl")
        timeline = _timeline(tmp, pipe_started, pipe_wall)
        emulator_cpu = {name: cpu + process_cpu_seconds(emulator_pids[name]) for name, cpu in emulator_cpu.items()}
        log = (tmp / "target.log").read_text() if (tmp / "target.log").exists() else ""
        workers, reads = WORKERS_LINE.search(log), INPUT_READS.search(log)
        landed = {ds: len(_get(f"{aep.url}/_emulator/landed/{ds}")) for ds in set(EMULATOR_DATASETS.values())}
        tap_end = float((tmp / "tap-end").read_text()) - pipe_started if (tmp / "tap-end").exists() else 0.0
        last_batches = _last_batches(_get(f"{aep.url}/_emulator/requests")["requests"], pipe_started, tap_end)
        peaks = [line for name in ("tap", "target") for line in _tail(tmp / f"{name}.log") if "peak RSS" in line]
        if os.environ.get("BENCH_PIPELINE_KEEP"):  # a folder to keep the run's logs and report in, to read them
            shutil.copytree(tmp, os.environ["BENCH_PIPELINE_KEEP"], dirs_exist_ok=True, ignore=_STORE)

    total = sum(landed.values())
    tap_rate, pipe_rate = tap_records / alone_wall, total / pipe_wall
    print(
        f"  tap alone        exit {alone.returncode}, {tap_records:,} records in {alone_wall:.1f} s: "
        f"{tap_rate:,.0f} objects/s"
    )
    print(
        f"  tap | target     exit {pipe.returncode}, {total:,} landed in {pipe_wall:.1f} s: {pipe_rate:,.0f} objects/s"
        f" ({pipe_rate / max(tap_rate, 1):.0%} of the tap alone; Stripe's ceiling {100 * rate:,.0f})"
    )
    print(f"  landed per dataset {landed}")
    print(f"  10 M objects     {10_000_000 / max(pipe_rate, 1) / 3600:.1f} h at this rate")
    for line in peaks:
        print(f"  {line}")
    if workers:
        in_workers, count, here, main_cpu, workers_cpu = workers.groups()
        print(f"  target CPU       main process {main_cpu} s, {count} worker(s) {workers_cpu} s; records mapped: "
              f"{in_workers} in workers, {here} in the main process")  # fmt: skip
    if timeline:
        print(f"  timeline         {timeline}")
    if last_batches:
        print(f"  last AEP batches {last_batches}")
    if reads:
        print(f"  target input     {reads.group(1)} reads, {reads.group(2)} of them full (its writer held up)")
    print("  emulators CPU    " + ", ".join(f"{name} {cpu:.1f} s" for name, cpu in emulator_cpu.items()))


def _timeline(tmp: Path, started: float, wall: float) -> str:
    """Where the pipe's time beyond the tap's goes: seconds from the pipe's start to the tap's exit (its last line
    written), to the target's end of input, to every delivery confirmed, to the target's exit (its run report's
    times, counted back from the pipe's end)."""
    try:
        tap_end = float((tmp / "tap-end").read_text()) - started
        run = json.loads((tmp / "report.json").read_text())["run"]
    except (OSError, ValueError, KeyError):
        return ""
    target_start = wall - run["seconds"]  # the report is written last: its total runs to (about) the pipe's end
    input_end = target_start + (run.get("input_seconds") or 0)
    confirmed = input_end + (run.get("confirm_seconds") or 0)
    return (
        f"tap's last line {tap_end:.1f} s, target's end of input {input_end:.1f} s, last delivery confirmed "
        f"{confirmed:.1f} s, pipe done {wall:.1f} s (target started {target_start:.1f} s)"
    )


def _last_batches(requests_log: list[dict], started: float, tap_end: float) -> str:
    """The AEP batches the pipe waited for after the tap's last line, from the emulator's request log, in seconds
    from the pipe's start: its first file uploaded, its COMPLETE, its success read (its last status poll).
    Before COMPLETE the pipe waits on the target's uploads, after it on AEP's processing."""
    batches: dict[str, dict[str, float]] = {}
    for entry in requests_log:
        found = _BATCH_PATH.match(entry["path"])
        if not found or entry["status"] >= 300:
            continue
        at, times = entry["time_ms"] / 1000 - started, batches.setdefault(found.group(1), {})
        times["first"] = min(times.get("first", at), at)
        times["last"] = max(times.get("last", at), at)
        if "COMPLETE" in str(entry.get("query")):
            times["complete"] = at
    tail = sorted((times for times in batches.values() if times["last"] > tap_end), key=lambda times: times["first"])
    return "; ".join(
        f"{times['first']:.1f} -> COMPLETE {times.get('complete', float('nan')):.1f} -> success {times['last']:.1f} s"
        for times in tail
    )


def _timed(command: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, check=False, capture_output=True, text=True)
    return time.monotonic() - started, done


def emulator_target_config(aep_url: str, tmp: Path) -> dict[str, object]:
    """target-aep's config against the AEP emulator, every file it writes kept in ``tmp`` (not the repository)."""
    return {
        "client_id": "emulator-client-id",
        "client_secret": "emulator-client-secret",
        "org_id": "EMULATOR0000000000000001@AdobeOrg",
        "ims_url": aep_url,
        "platform_url": aep_url,
        "streaming_url": aep_url,
        "dead_letter_path": str(tmp / "rejected.jsonl"),
        "report_path": str(tmp / "report.html"),
        "repairs_path": str(tmp / "repairs.jsonl"),
        "datasets": {stream: {"dataset_id": dataset_id} for stream, dataset_id in EMULATOR_DATASETS.items()},
    }


def _get(url: str) -> t.Any:
    response = requests.get(url, timeout=120)
    response.raise_for_status()
    return response.json()


def _tail(path: Path) -> list[str]:
    return path.read_text().splitlines()[-5:] if path.exists() else []


if __name__ == "__main__":
    main(sys.argv[1:])
