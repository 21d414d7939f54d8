"""CPU per object of the tap and of the Stripe emulator, for one backfill (issue 10, session 3).

``python -m bench.tap_cpu [--customers 6000] [--latency-ms 0] [--rate-limit 0] [--streams classic]
[--profile-tap FILE]`` starts a Stripe emulator, runs the tap's CLI once against it and prints, next to objects/s,
the CPU seconds (user + sys) each process spent per 1,000 objects: the tap's from its own rusage (``wait4``), the
emulator's from ``/proc/<pid>/stat`` before and after the run (so its data generation at start-up is not counted).
Wall time is noisy on a shared machine; CPU per object is the figure that says whether a change helped.

``--profile-tap FILE`` runs the tap under ``cProfile`` (its SDK thread only, wall time); ``--yappi FILE`` under
yappi (CPU time of every thread); ``--py-spy PREFIX`` samples the tap and the emulator with py-spy (the thread
holding the GIL, native frames left out) into ``PREFIX-tap.txt`` and ``PREFIX-emulator.txt``, collapsed stacks
that ``python -m bench.tap_cpu --summarize FILE`` adds up by function. Install yappi or py-spy into the venv for the
measurement; neither is a dependency.
``--startup N`` measures the tap's start-up instead, N times: the wall and CPU seconds from starting its CLI to its
first request (the first connection accepted on a socket standing in for Stripe, at which point the tap is
stopped), and the median of each.

Not part of ``make bench``: a measurement tool, named without the ``bench_`` prefix on purpose.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulators.launch import REPO_ROOT, stripe_emulator

KEY = "sk_test_emulator_0000000000000000"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Counts RECORD lines without decoding them, so the reader costs the tap nothing it would not cost a target.
_COUNTER = 'import sys\nn=0\nfor line in sys.stdin.buffer:\n    n+=line.startswith(b\'{"type":"RECORD"\')\nprint(n)'

# The tap's CLI under yappi's CPU clock, all threads (cProfile sees only the SDK thread, in wall time).
_UNDER_YAPPI = """
import runpy, sys, yappi
out = sys.argv[1]
sys.argv = ["tap_stripe_aep.tap", *sys.argv[2:]]
yappi.set_clock_type("cpu")
yappi.start(builtins=True)
try:
    runpy.run_module("tap_stripe_aep.tap", run_name="__main__", alter_sys=True)
finally:
    yappi.stop()
    yappi.get_func_stats().save(out, type="pstat")
"""


def process_cpu_seconds(pid: int) -> float:
    """user + sys CPU seconds of a live process (all its threads)."""
    return sum(process_cpu_split(pid))


def process_cpu_split(pid: int) -> tuple[float, float]:
    """(user, sys) CPU seconds of a live process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / _CLOCK_TICKS, int(fields[12]) / _CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tap_cpu", description=__doc__)
    parser.add_argument("--customers", type=int, default=6000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=float, default=0)
    parser.add_argument("--growth-doubling-days", type=float, default=0)
    parser.add_argument("--burst-days", type=int, default=0)
    parser.add_argument("--streams", default="classic", help="classic (the 22 of bench_tap) or all")
    parser.add_argument("--profile-tap", help="run the tap under cProfile and write its stats to this file")
    parser.add_argument(
        "--yappi", help="profile the tap's CPU time in every thread with yappi (pip install it) into this pstats file"
    )
    parser.add_argument("--py-spy", help="sample the tap and the emulator with py-spy into PREFIX-{tap,emulator}.txt")
    parser.add_argument("--startup", type=int, help="time the tap's start-up to its first request, N times")
    parser.add_argument("--summarize", help="print where a --py-spy file's samples went, by function, and exit")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        help="the tap's max_concurrency (default: its own from the rate; 16 with --rate-limit 0, where its own "
        "would be 4,000 threads for the 10,000 requests/s configured, and their hand-offs would be what is measured)",
    )
    parser.add_argument("--runs", type=int, default=1, help="tap runs against the same emulator (a fresh tap each)")
    args = parser.parse_args(argv)
    if args.startup:
        startup(args.startup)
        return
    if args.summarize:
        summarize(Path(args.summarize))
        return
    from bench.bench_tap import CLASSIC_STREAMS
    from tests.tap.tap_runner import catalog_selecting

    streams = None if args.streams == "all" else CLASSIC_STREAMS
    shape = {"growth_doubling_days": args.growth_doubling_days or None, "burst_days": args.burst_days or None}
    with (
        stripe_emulator(
            customers=args.customers, latency_ms=args.latency_ms, rate_limit=args.rate_limit, **shape
        ) as emulator,
        tempfile.TemporaryDirectory() as tmp,
    ):
        assert emulator._proc is not None
        emulator_pid = emulator._proc.pid
        config = Path(tmp) / "config.json"
        settings = {"api_key": KEY, "api_url": emulator.url, "max_requests_per_second": args.rate_limit or 10_000}
        concurrency = args.max_concurrency or (None if args.rate_limit else 16)
        if concurrency:
            settings["max_concurrency"] = concurrency
        config.write_text(json.dumps(settings))
        catalog = Path(tmp) / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(streams)))
        command = [sys.executable]
        if args.yappi:
            command += ["-c", _UNDER_YAPPI, args.yappi]
        elif args.py_spy:
            command = [*_py_spy(f"{args.py_spy}-tap.txt"), "--", sys.executable, "-m", "tap_stripe_aep.tap"]
        elif args.profile_tap:
            command += ["-m", "cProfile", "-o", args.profile_tap, "-m", "tap_stripe_aep.tap"]
        else:
            command += ["-m", "tap_stripe_aep.tap"]
        command += ["--config", str(config), "--catalog", str(catalog)]
        for run in range(args.runs):
            emulator_before = process_cpu_split(emulator_pid)
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(
                    [*_py_spy(f"{args.py_spy}-emulator.txt"), "--pid", str(emulator_pid)], stderr=subprocess.DEVNULL
                )
            started = time.monotonic()
            tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
            counter = subprocess.run(
                [sys.executable, "-c", _COUNTER], stdin=tap.stdout, capture_output=True, text=True, check=True
            )
            _, status, usage = os.wait4(tap.pid, 0)
            wall = time.monotonic() - started
            emulator_user, emulator_sys = (
                b - a for a, b in zip(emulator_before, process_cpu_split(emulator_pid), strict=True)
            )
            emulator_cpu = emulator_user + emulator_sys
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                spy.wait()
            objects = int(counter.stdout.strip() or 0)
            tap_cpu = usage.ru_utime + usage.ru_stime
            per_k = 1000 / max(1, objects)
            print(
                f"run {run + 1}: exit {os.waitstatus_to_exitcode(status)}, {objects:,} objects in {wall:.1f} s "
                f"= {objects / wall:,.0f}/s; tap CPU {tap_cpu:.1f} s ({usage.ru_utime:.1f} user + "
                f"{usage.ru_stime:.1f} sys) = {tap_cpu * per_k * 1000:.0f} ms per 1,000 objects; emulator CPU "
                f"{emulator_cpu:.1f} s ({emulator_user:.1f} user + {emulator_sys:.1f} sys) = "
                f"{emulator_cpu * per_k * 1000:.0f} ms per 1,000 objects; "
                f"tap peak RSS {usage.ru_maxrss / 1024:.0f} MB",
                flush=True,
            )


def startup(runs: int) -> None:
    """Wall and CPU seconds from the tap's start to its first request (every classic stream selected)."""
    from bench.bench_tap import CLASSIC_STREAMS
    from tests.tap.tap_runner import catalog_selecting

    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp, socket.create_server(("127.0.0.1", 0)) as stand_in:
        config, catalog = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        settings = {"api_key": KEY, "api_url": f"http://127.0.0.1:{stand_in.getsockname()[1]}"}
        config.write_text(json.dumps(settings))
        catalog.write_text(json.dumps(catalog_selecting(CLASSIC_STREAMS)))
        command = [sys.executable, "-m", "tap_stripe_aep.tap", "--config", str(config), "--catalog", str(catalog)]
        for _ in range(runs):
            started = time.monotonic()
            tap = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
            connection, _ = stand_in.accept()
            walls.append(time.monotonic() - started)
            cpus.append(process_cpu_seconds(tap.pid))
            tap.kill()
            tap.wait()
            connection.close()
    print(
        f"start-up to the first request, {runs} runs: wall median {statistics.median(walls):.2f} s "
        f"(min {min(walls):.2f}), CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f})"
    )


def _py_spy(output: str) -> list[str]:
    py_spy = Path(sys.executable).with_name("py-spy")
    return [str(py_spy), "record", "--format", "raw", "--rate", "250", "--gil", "--nonblocking", "-o", output]


# Stages of the tap's and the emulator's work, each the first whose frame (``function file``) is in a sample's
# stack: for the split of the CPU per object (docs/benchmarks.md).
STAGES = (
    ("start-up: imports", ("_find_and_load ",)),
    ("start-up: tap set-up (catalog, streams, mapper)", ("TapStripeAEP.__init__ ",)),
    ("tap: JSON decode", ("decode_page exact_json.py",)),
    ("tap: JSON encode", ("record_line exact_json.py",)),
    ("tap: write to stdout", ("FastSingerWriter._write ",)),
    ("tap: post-process (timestamps, updated, account)", ("StripeStream.make_record ",)),
    ("tap: HTTP (urllib3, http.client)", ("StripeClient.get ",)),
    ("threads: locks, futures, waits", ("Condition.", "Event.", "Future.", " _base.py", "Lock.")),
    ("tap: SDK record path", ("Stream._sync_records ",)),
    (
        "tap: read scheduling (windows, pool, budget)",
        (" backfill.py", " request_pool.py", " read_budget.py", " prefetch.py"),
    ),
    ("emulator: build objects", ("Sequence.original ", "Sequence.get ")),
    ("emulator: encode objects", ("encode sequence.py",)),
    ("emulator: serve (routing, HTTP, pages)", ("StripeHandler.",)),
)


def summarize(path: Path, top: int = 45) -> None:
    """Where the samples of a py-spy raw file went: by stage, each function's own share, and with its callees."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    stages: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [frame.rsplit(" (", 1)[0] + " " + frame.rsplit("/", 1)[-1].split(":")[0] for frame in stack.split(";")]
        frames = frames[1:] if frames and frames[0].startswith(("thread", "process")) else frames
        samples += count
        if frames:
            own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
        stage = next((name for name, marks in STAGES if any(m in f for f in frames for m in marks)), "other")
        stages[stage] = stages.get(stage, 0) + count
    print(f"{samples} samples")
    for title, table in (("by stage", stages), ("own", own), ("with callees", total)):
        print(f"--- {title}")
        for frame, count in sorted(table.items(), key=lambda item: -item[1])[:top]:
            print(f"{100 * count / samples:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1:])
