"""Target benchmark: 100,000 realistic Stripe records through ``target-aep``, batch mode to the AEP emulator and
``output_dir`` mode (no HTTP).

``python -m bench target`` (or ``make bench``) runs both; ``python -m bench.bench_target --rss-flatness`` adds
1,000,000 records in each mode to check that peak RSS stays flat (a few minutes). Records are the sample records
of every stream (``tests/data_files/stripe_records``) repeated with new ids, perturbed amounts and each copy its own
``created`` and ``updated`` (``--repeated-timestamps``: the input of older figures, see ``ROUND_SHIFT``), written
as one Singer file, then piped to the target CLI, its modules byte-compiled first as an installed plugin has them
(``installed_bytecode``). Prints records/s, wall time, CPU time and peak RSS of the target with its mapping
workers (`--mapping-workers N` sets them; default: the target's own), how many records the workers mapped, and
the share of time in mapping, validation, serialization and HTTP (the target's end-of-run stage timers;
with workers, summed over every process).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.installed_bytecode import compile_installed_packages  # noqa: E402
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
Memory = tuple[float, float]  # peak RSS, peak PSS (MB)
WORKERS_LINE = re.compile(
    r"mapping: (\d+) records in (\d+) worker process\(es\), (\d+) in the main process \(CPU: main process ([\d.]+) s, "
    r"workers ([\d.]+) s\)"
)
PHASE_LINE = re.compile(r"input read in ([\d.]+) s; every delivery confirmed ([\d.]+) s after")


INPUT_ORDERS = ("interleaved", "by-stream")


# Each round's copies are this much older than the round before: every record has its own `created` and
# `updated`, as in a real account. (Until session 5 only `created`'s seconds varied, 60 values, and `updated` not at
# all: the fitters' cache of strings already seen to fit answered nearly every timestamp, about 1 µs a field less
# than real data costs; `--repeated-timestamps` gives that input back, to compare with older figures.)
ROUND_SHIFT = datetime.timedelta(seconds=631)
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def _bench_record(record: dict, round_number: int, *, repeated_timestamps: bool = False) -> dict:
    """Round ``round_number``'s copy of a sample record: a new id, perturbed amount and times."""
    copy = dict(record)
    copy["id"] = f"{record['id']}_{round_number:06d}"
    if isinstance(copy.get("amount"), int):
        copy["amount"] = copy["amount"] + round_number % 997
    if repeated_timestamps:
        if isinstance(copy.get("created"), str) and len(copy["created"]) >= 19:
            copy["created"] = f"{copy['created'][:17]}{round_number % 60:02d}Z"
        return copy
    for key in ("created", "updated"):
        value = copy.get(key)
        if isinstance(value, str) and len(value) == 20:
            moment = datetime.datetime.strptime(value, _ISO) - round_number * ROUND_SHIFT
            copy[key] = moment.strftime(_ISO)
    return copy


def write_input(path: Path, total: int, order: str = "interleaved", *, repeated_timestamps: bool = False) -> int:
    """Singer file with ``total`` records spread over every stream in proportion to a real account.

    ``interleaved`` (the headline figure): round after round, each round one copy of every stream's samples, so
    the stream changes at almost every record. ``by-stream``: the SAME records grouped per stream, streams one
    after another (by name: what matters is that each comes whole, as the SDK syncs streams one by one), a
    STATE message as often as in ``interleaved``: what a real tap's output gives the target.
    """
    samples = sample_records()
    streams = sorted(samples)

    def copy_of(record: dict, round_number: int) -> dict:
        return _bench_record(record, round_number, repeated_timestamps=repeated_timestamps)

    per_round = sum(len(samples[stream]) for stream in streams)
    state_every = 50 * per_round  # interleaved: a STATE message every 50 rounds
    with path.open("w") as out:
        for stream in streams:
            out.write(json.dumps(schema_message(stream)) + "\n")
        rounds, left = divmod(total, per_round)
        if order == "interleaved":
            count = 0
            for round_number in range(rounds + (1 if left else 0)):
                for stream in streams:
                    for record in samples[stream]:
                        if count >= total:
                            break
                        message = {"type": "RECORD", "stream": stream, "record": copy_of(record, round_number)}
                        out.write(json.dumps(message) + "\n")
                        count += 1
                if round_number % 50 == 0:
                    out.write(json.dumps({"type": "STATE", "value": {"round": round_number}}) + "\n")
            end_round = rounds + (1 if left else 0)
        else:
            count = 0
            for stream in streams:
                # The records of this stream the interleaved order holds: every full round, and in the last,
                # partial round the streams (sorted) before the cut and the first ones of the stream it cuts.
                before = sum(len(samples[s]) for s in streams if s < stream)
                in_last = min(max(left - before, 0), len(samples[stream]))
                for round_number in range(rounds + 1):
                    for index, record in enumerate(samples[stream]):
                        if round_number == rounds and index >= in_last:
                            break
                        message = {"type": "RECORD", "stream": stream, "record": copy_of(record, round_number)}
                        out.write(json.dumps(message) + "\n")
                        count += 1
                        if count % state_every == 0:
                            out.write(json.dumps({"type": "STATE", "value": {"records": count}}) + "\n")
            end_round = rounds + (1 if left else 0)
        out.write(json.dumps({"type": "STATE", "value": {"round": end_round, "done": True}}) + "\n")
    return count


def run_target(config: dict, input_path: Path, tmp_dir: Path) -> tuple[int, str, float, Memory, float]:
    """Run the target CLI on ``input_path``: (exit code, stderr, wall seconds, (peak RSS, peak PSS) in MB of the
    target and its mapping workers together, CPU seconds of them all).

    ``os.wait4`` gives this child's own resource usage with that of the children it reaped (its mapping workers,
    joined at the end of the run): the CPU time of them all. Its ``ru_maxrss`` is the largest single process, not
    their sum, so the tree's resident memory is sampled from /proc while it runs (``TreeMemory``); each worker's
    pages shared with the main process since the fork are counted twice, so the sum errs high. (``RUSAGE_CHILDREN``
    would keep the largest of every run so far; Linux folds the parent's peak RSS into a child's at ``exec``, so
    this process must stay small: it counts landed lines instead of loading them, ``landed_lines``.)
    """
    config_path = tmp_dir / "config.json"
    config_path.write_text(json.dumps(config))
    stderr_path = tmp_dir / "stderr.log"
    started = time.perf_counter()
    with input_path.open("rb") as stdin, stderr_path.open("wb") as stderr, (tmp_dir / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
            stdin=stdin,
            stdout=out,
            stderr=stderr,
            cwd=REPO,
        )
        memory = TreeMemory(process.pid)
        memory.start()
        _, status, usage = os.wait4(process.pid, 0)
        memory.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    peak_mb = max(memory.peak_kb, usage.ru_maxrss) / 1024
    return process.returncode, stderr_path.read_text(), wall, (peak_mb, memory.peak_pss_kb / 1024), cpu


class TreeMemory(threading.Thread):
    """The largest sums of resident memory of a process and its children, sampled every 50 ms from /proc: RSS
    (pages a worker shares with the main process since the fork counted in each) and PSS (shared pages divided
    between the processes sharing them: what the tree holds)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            try:
                children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            except OSError:
                return
            pids = [self.pid, *map(int, children)]
            self.peak_kb = max(self.peak_kb, sum(_memory_kb(pid, "status", "VmRSS:") for pid in pids))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_memory_kb(pid, "smaps_rollup", "Pss:") for pid in pids))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _memory_kb(pid: int, file: str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def landed_lines(directory: Path) -> int:
    """Records in the ``*.jsonl`` files under ``directory`` (the emulator's store or ``output_dir``), counted
    without parsing them (see ``run_target`` on why this process must not grow)."""
    count = 0
    for path in directory.rglob("*.jsonl"):
        with path.open("rb") as lines:
            count += sum(1 for line in lines if line.strip())
    return count


def report(
    mode: str,
    written: int,
    landed: int,
    rejected: int,
    stderr: str,
    wall: float,
    memory: tuple[float, float],
    cpu: float,
) -> None:
    stages = {}
    match = STAGE_LINE.search(stderr)
    if match:
        for part in match.group(1).split(", "):
            name, seconds, _ = part.split(" ")
            stages[name] = float(seconds)
    print(f"-- {mode}: records in: {written}, landed: {landed}, rejected: {rejected}")
    workers = WORKERS_LINE.search(stderr)
    if workers:
        in_workers, count, here, main_cpu, workers_cpu = workers.groups()
        print(f"mapping: {in_workers} records in {count} worker process(es), {here} in the main process; CPU: main "
              f"process {main_cpu} s, workers {workers_cpu} s")  # fmt: skip
    rss, pss = memory
    print(f"wall time: {wall:.1f} s, {written / wall:,.0f} records/s")
    print(f"peak memory (target + workers): RSS {rss:.0f} MB, PSS {pss:.0f} MB")
    # On a shared machine the wall rate follows the other processes' load; the target's own CPU time does less.
    print(f"CPU time (target + workers): {cpu:.1f} s, {written / cpu:,.0f} records per CPU second")
    # mapping, validation and serialization run on the reading thread; http is summed over the delivery threads
    # and includes AEP's batch processing while polling, so it can overlap the others.
    total = sum(stages.values()) or 1.0
    print("time by stage (share of the stage total; share of wall):")
    for name in ("mapping", "validation", "serialization", "http"):
        seconds = stages.get(name, 0.0)
        print(f"  {name:<14} {seconds:6.2f} s  {seconds / total:6.1%}  {seconds / wall:6.1%}")
    phases = PHASE_LINE.search(stderr)
    if phases:
        read, tail = float(phases.group(1)), float(phases.group(2))
        cpu = sum(stages.get(n, 0.0) for n in ("mapping", "validation", "serialization"))
        print(f"input read in {read:.2f} s (of which SDK read/dispatch outside our stages {read - cpu:.2f} s);")
        print(f"reading rate (what keeps up with a tap): {written / read:,.0f} records/s;")
        print(f"last deliveries confirmed {tail:.2f} s after the end of input; start-up {wall - read - tail:.2f} s")


def target_config(tmp_dir: Path, batch_max_records: int, workers: int | None, aep_url: str | None = None) -> dict:
    """The target's config for a run in ``tmp_dir``: batch mode to the AEP emulator at ``aep_url``, or without it
    ``output_dir`` mode (local schemas, files in ``tmp_dir / "out"``)."""
    config: dict = {
        "datasets": {s: {"dataset_id": dataset_for(s)} for s in sorted(sample_records())},
        "dead_letter_path": str(tmp_dir / "rejected.jsonl"),
        "repairs_path": str(tmp_dir / "repairs.jsonl"),
        "report_path": str(tmp_dir / "report.html"),
        "batch_max_records": batch_max_records,
    }
    if workers is not None:
        config["mapping_workers"] = workers
    if aep_url is None:
        return {
            **config,
            "output_dir": str(tmp_dir / "out"),
            "tenant_id": "acme",
            "local_schemas": {d: str(REPO / "xdm" / f) for d, f in SCHEMA_FILE_BY_DATASET.items()},
        }
    return {
        **config,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "org_id": ORG_ID,
        "ims_url": aep_url,
        "platform_url": aep_url,
        "streaming_url": aep_url,
    }


def bench_mode(
    mode: str,
    records: int,
    batch_max_records: int,
    workers: int | None = None,
    order: str = "interleaved",
    *,
    repeated_timestamps: bool = False,
) -> None:
    """One run of ``records`` records in ``mode`` (``batch``: to the AEP emulator; ``output_dir``: local files),
    fed in ``order`` (``write_input``)."""
    with tempfile.TemporaryDirectory(prefix="bench-target-") as tmp:
        tmp_dir = Path(tmp)
        input_path = tmp_dir / "input.singer"
        written = write_input(input_path, records, order, repeated_timestamps=repeated_timestamps)
        emulator_cpu = 0.0
        if mode == "output_dir":
            config = target_config(tmp_dir, batch_max_records, workers)
            code, stderr, wall, memory, cpu = run_target(config, input_path, tmp_dir)
            landed = landed_lines(tmp_dir / "out")
        else:
            with aep_emulator(store=tmp_dir / "store", sandbox_preset="stripe") as emulator:
                config = target_config(tmp_dir, batch_max_records, workers, emulator.url)
                # The emulator shares the machine's cores: its CPU for this run is part of the batch mode's cost.
                emulator_pid = emulator._proc.pid  # type: ignore[union-attr]  # launch.py offers no pid of its own
                emulator_cpu = -process_cpu_seconds(emulator_pid)
                code, stderr, wall, memory, cpu = run_target(config, input_path, tmp_dir)
                emulator_cpu += process_cpu_seconds(emulator_pid)
                traffic = platform_traffic(emulator.url)
                landed = landed_lines(tmp_dir / "store")
        if code != 0:
            print(stderr[-3000:])
            raise SystemExit(f"target exited {code}")
        rejected_path = tmp_dir / "rejected.jsonl"
        rejected = sum(1 for _ in rejected_path.open()) if rejected_path.exists() else 0
    report(f"{mode} ({order})", written, landed, rejected, stderr, wall, memory, cpu)
    if mode == "batch":
        print(f"AEP emulator CPU time: {emulator_cpu:.1f} s ({1e6 * emulator_cpu / written:.0f} us a record)")
        print("AEP batches: {} ({} files), platform requests: {}".format(*traffic))


def platform_traffic(url: str) -> tuple[int, int, int]:
    """The run's AEP batches, the files uploaded to them and every Platform call, as the emulator counted them."""
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as answer:
        stats = json.load(answer)
    with urllib.request.urlopen(f"{url}/_emulator/requests", timeout=10) as answer:
        calls = len(json.load(answer)["requests"])
    return stats["batches_created"], stats.get("batch_files_uploaded", 0), calls


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_target")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-max-records", type=int, default=50_000)
    parser.add_argument("--mode", choices=("batch", "output_dir", "both"), default="both")
    parser.add_argument("--mapping-workers", type=int, help="the target's mapping_workers (default: its own)")
    parser.add_argument(
        "--input-order",
        choices=INPUT_ORDERS,
        default="interleaved",
        help="interleaved: the stream changes at almost every record (default); by-stream: the same records "
        "grouped per stream, streams one after another, as a tap writes them",
    )
    parser.add_argument(
        "--repeated-timestamps",
        action="store_true",
        help="the input of the figures before session 5's end: only created's seconds vary (60 values), updated "
        "not at all (default: every record its own created and updated)",
    )
    parser.add_argument(
        "--rss-flatness",
        action="store_true",
        help="also run 1,000,000 records in each mode, to compare peak RSS with the 100,000-record run (minutes)",
    )
    args = parser.parse_args(argv)
    print(compile_installed_packages(), flush=True)
    modes = ("batch", "output_dir") if args.mode == "both" else (args.mode,)
    for mode in modes:
        options = (args.batch_max_records, args.mapping_workers, args.input_order)
        bench_mode(mode, args.records, *options, repeated_timestamps=args.repeated_timestamps)
        if args.rss_flatness:
            bench_mode(mode, 1_000_000, *options, repeated_timestamps=args.repeated_timestamps)


if __name__ == "__main__":
    main(sys.argv[1:])
