"""Tap backfill benchmark: streams from a Stripe emulator with Stripe's latency and rate limit, on two data shapes.

``python -m bench tap`` runs the issue 10 set: the backfill of the 22 streams that existed before issue 9, on the
even shape and on a growing one (density doubling every 90 days, two bursty days), at 25 requests/s (Stripe's
test mode) and at 100 requests/s (Stripe's live mode), each at 200 ms a request; then, on the growing shape at
25 requests/s, an incremental run after 1% of the objects changed, with its requests against the backfill's.

``python -m bench.bench_tap [--customers N] [--latency-ms 200] [--rate-limit 25] [--growth-doubling-days D]
[--burst-days B] [--streams classic|all|a,b] [--incremental-changes 0.01]`` runs one case. The tap runs as the
real CLI with ``max_requests_per_second`` equal to the emulator's limit; RECORD lines are counted with
``grep -c`` (so counting costs the tap nothing); requests are the emulator's count. Each case prints objects/s,
requests, objects per request and the tap's peak RSS, next to the ceiling (100 objects a page x the rate).

The emulator starts with ``--prebuild`` (every object built and encoded before the clock starts: Stripe's own
servers do not share the tap's cores, so the run measures the tap against the configured latency, not against the
emulator building objects); ``--lazy-emulator`` measures against the lazily building emulator of before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.installed_bytecode import compile_installed_packages
from emulators.launch import REPO_ROOT, EmulatorProcess, stripe_emulator
from tests.tap.test_schemas import CLASSIC_STREAMS  # the 22 streams before issue 9, the figures' set

KEY = "sk_test_emulator_0000000000000000"
GROWING = {"growth_doubling_days": 90, "burst_days": 2}
# `python -m bench tap`: (label, customers, rate limit, shape)
SUITE = (
    ("even, 25 req/s", 9000, 25, {}),
    ("growing, 25 req/s", 9000, 25, GROWING),
    ("even, 100 req/s", 24000, 100, {}),
    ("growing, 100 req/s", 24000, 100, GROWING),
)


@dataclass
class Result:
    code: int
    records: int
    wall: float
    requests: int
    rate_limited: int
    peak_rss_mb: float
    cpu_seconds: float
    state: dict
    emulator_cpu_seconds: float = 0.0


def main(argv: list[str]) -> None:
    if not argv:
        _suite()
        return
    parser = argparse.ArgumentParser(prog="bench_tap", description=__doc__)
    parser.add_argument("--customers", type=int, default=9000, help="emulator size (about 17 objects each)")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rate-limit", type=float, default=25)
    parser.add_argument("--growth-doubling-days", type=float, default=0, help="0: the even shape")
    parser.add_argument("--burst-days", type=int, default=0)
    parser.add_argument("--streams", default="all", help="classic (the 22 before issue 9), all, or a,b,c")
    parser.add_argument("--max-concurrency", type=int, help="default: the tap's own (sized from the rate)")
    parser.add_argument("--incremental-changes", type=float, default=0, help="share of objects to change, rerun")
    parser.add_argument("--tap-log", help="write the tap's log (stderr) to this file")
    parser.add_argument("--trace", help="append a trace of the tap to this file (bench/tap_trace.py)")
    parser.add_argument(
        "--lazy-emulator", action="store_true", help="no --prebuild: the emulator builds objects as pages read them"
    )
    args = parser.parse_args(argv)
    print(compile_installed_packages(), flush=True)
    shape = {"growth_doubling_days": args.growth_doubling_days or None, "burst_days": args.burst_days or None}
    streams = _streams(args.streams)
    started = time.monotonic()
    with stripe_emulator(
        customers=args.customers,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        prebuild=not args.lazy_emulator,
        **shape,
    ) as emulator:
        _report_start(emulator, started)
        before = _process_cpu_seconds(emulator)
        result = run_tap(emulator.url, args.rate_limit, streams, args.max_concurrency, args.tap_log, trace=args.trace)
        result.emulator_cpu_seconds = _process_cpu_seconds(emulator) - before
        _report("backfill", result, args.rate_limit)
        if args.incremental_changes:
            changed = change_objects(emulator.url, result.records, args.incremental_changes)
            again = run_tap(emulator.url, args.rate_limit, streams, args.max_concurrency, None, result.state)
            _report(f"incremental ({changed:,} changes)", again, args.rate_limit)
            ratio = again.requests / max(1, result.requests)
            print(f"requests vs backfill  {again.requests:,} / {result.requests:,} = {ratio:.1%}")


def _suite() -> None:
    for label, customers, rate, shape in SUITE:
        print(f"-- tap backfill, {label}, {customers:,} customers, 200 ms a request, 22 streams", flush=True)
        flags = {"growth_doubling_days": shape.get("growth_doubling_days"), "burst_days": shape.get("burst_days")}
        started = time.monotonic()
        with stripe_emulator(customers=customers, latency_ms=200, rate_limit=rate, prebuild=True, **flags) as emulator:
            _report_start(emulator, started)
            before = _process_cpu_seconds(emulator)
            result = run_tap(emulator.url, rate, CLASSIC_STREAMS, None, None)
            result.emulator_cpu_seconds = _process_cpu_seconds(emulator) - before
            _report("backfill", result, rate)
            if shape and rate == 25:
                changed = change_objects(emulator.url, result.records, 0.01)
                again = run_tap(emulator.url, rate, CLASSIC_STREAMS, None, None, result.state)
                _report(f"incremental after {changed:,} changes (1%)", again, rate)
                print(f"  requests vs backfill  {again.requests / max(1, result.requests):.1%}", flush=True)


def _streams(choice: str) -> list[str] | None:
    if choice == "all":
        return None
    if choice == "classic":
        return list(CLASSIC_STREAMS)
    return [s.strip() for s in choice.split(",") if s.strip()]


def run_tap(
    url: str,
    rate: float,
    streams: list[str] | None,
    max_concurrency: int | None,
    tap_log: str | None,
    state: dict | None = None,
    *,
    trace: str | None = None,
) -> Result:
    """One run of the tap's CLI against ``url``: records, wall time, the emulator's request count, peak RSS."""
    from tests.tap.tap_runner import catalog_selecting

    before = _stats(url)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.json"
        settings = {
            "api_key": KEY,
            "api_url": url,
            # --rate-limit 0 measures the tap's own CPU ceiling: no limit to speak of on either side.
            "max_requests_per_second": rate or 10_000,
            **({"max_concurrency": max_concurrency} if max_concurrency else {}),
        }
        config.write_text(json.dumps(settings))
        args = [sys.executable, "-m", "tap_stripe_aep.tap", "--config", str(config)]
        if trace:
            args[1:3] = ["-m", "bench.tap_trace", str(Path(trace).resolve()), "2", "--"]
        catalog = Path(tmp) / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(streams)))
        args += ["--catalog", str(catalog)]
        if state is not None:
            state_path = Path(tmp) / "state.json"
            state_path.write_text(json.dumps(state))
            args += ["--state", str(state_path)]
        log = open(tap_log, "w") if tap_log else subprocess.DEVNULL  # noqa: SIM115
        started = time.monotonic()
        tap = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, cwd=REPO_ROOT)
        # Count records and keep the last STATE line without parsing every line (grep does the counting).
        script = 'import sys\nn=0\nlast=\'\'\nfor line in sys.stdin:\n    if line.startswith(\'{"type":"RECORD"\'):\n        n+=1\n    elif \'"type":"STATE"\' in line:\n        last=line\nprint(n)\nprint(last.strip())'  # noqa: E501
        counter = subprocess.run(
            [sys.executable, "-c", script], stdin=tap.stdout, capture_output=True, text=True, check=False
        )
        # wait4: this child's own rusage (RUSAGE_CHILDREN would be the maximum over every child so far)
        _, status, usage = os.wait4(tap.pid, 0)
        wall = time.monotonic() - started
        code = tap.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024
    after = _stats(url)
    lines = counter.stdout.splitlines()
    last_state = json.loads(lines[1])["value"] if len(lines) > 1 and lines[1] else {}
    return Result(
        code=code,
        records=int(lines[0]) if lines else 0,
        wall=wall,
        requests=after["requests"] - before["requests"],
        rate_limited=after["rate_limited"] - before["rate_limited"],
        peak_rss_mb=peak,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        state=last_state,
    )


def change_objects(url: str, records: int, share: float) -> int:
    """Update, delete and create about ``share`` of ``records`` objects through the emulator's control API."""
    changes = max(3, int(records * share))
    body = {"updates": changes * 8 // 10, "deletes": changes // 10, "creates": changes - changes * 9 // 10}
    requests.post(f"{url}/_emulator/mutate", json=body, timeout=120).raise_for_status()
    requests.post(f"{url}/_emulator/clock", json={"advance_seconds": 60}, timeout=30)
    return changes


def _report(what: str, result: Result, rate: float) -> None:
    ceiling = 100 * rate
    per_second = result.records / result.wall if result.wall else 0.0
    share = f" ({per_second / ceiling:.0%} of the {ceiling:,.0f} ceiling)" if ceiling else " (no rate limit)"
    print(
        f"  {what}: exit {result.code}, {result.records:,} objects in {result.wall:.1f} s = {per_second:,.0f}/s"
        f"{share}, {result.requests:,} requests ({result.rate_limited} refused 429), "
        f"{result.records / max(1, result.requests):.1f} objects a request, tap peak RSS {result.peak_rss_mb:.0f} MB"
        f", tap CPU {result.cpu_seconds:.1f} s"
        + (f", Stripe emulator CPU {result.emulator_cpu_seconds:.1f} s" if result.emulator_cpu_seconds else ""),
        flush=True,
    )


def _report_start(emulator: EmulatorProcess, started: float) -> None:
    """The emulator's start-up (prebuilt or not), before the clock of any run starts."""
    prebuilt = "prebuilt" if "--prebuild" in emulator.args else "lazy"
    print(
        f"  Stripe emulator ({prebuilt}) ready in {time.monotonic() - started:.1f} s, "
        f"CPU {_process_cpu_seconds(emulator):.1f} s, RSS {_process_rss_mb(emulator):.0f} MB",
        flush=True,
    )


def _process_rss_mb(emulator: EmulatorProcess) -> float:
    proc = emulator._proc  # the bench reads the process it launched
    try:
        with open(f"/proc/{proc.pid}/status") as status:  # type: ignore[union-attr]
            rss = next(line for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, AttributeError):
        return 0.0
    return int(rss.split()[1]) / 1024


def _process_cpu_seconds(emulator: EmulatorProcess) -> float:
    """The emulator's CPU so far (user + system, /proc): it shares the machine's cores with the tap, so a run's
    figures are read with it (Stripe's own servers do not take the tap's cores)."""
    proc = emulator._proc  # the bench reads the process it launched
    if proc is None:
        return 0.0
    try:
        with open(f"/proc/{proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stats(url: str) -> dict:
    return requests.get(f"{url}/_emulator/stats", timeout=10).json()


if __name__ == "__main__":
    main(sys.argv[1:])
