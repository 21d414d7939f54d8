"""Continuous mode latency: a change in Stripe -> tap-stripe-aep (polling) | target-aep (streaming) -> landed in AEP.

``python -m bench latency`` or ``python -m bench.bench_latency [--rate 5] [--seconds 60] [--poll 5]
[--latency-ms 200]``. The Stripe emulator (200 ms a request, Stripe's test-mode 25 requests/s) gets changes to
customers at a steady rate through its control API while the tap (``poll_interval_seconds``) and the target
(streaming mode, default ``max_state_lag_seconds``) run as the real CLIs joined by a pipe, four streams selected.
Latency of a change: from the moment the emulator applied it (its event's time, to the millisecond) to the moment
the AEP emulator accepted the streaming request carrying that customer (the landed file's time, written when the
request is accepted). Prints p50 / p95 / max over every change; the goal is p95 under 30 s with a 5 s poll.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.bench_pipeline import emulator_target_config
from emulators.launch import REPO_ROOT, aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS
from tests.tap.tap_runner import catalog_selecting

BIN = Path(sys.executable).parent
KEY = "sk_test_emulator_0000000000000000"
INLET = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"
STREAMS = ["customers", "charges", "invoices", "subscriptions"]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_latency", description=__doc__)
    parser.add_argument("--rate", type=float, default=5.0, help="changes per second made in Stripe")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long changes are made")
    parser.add_argument("--poll", type=float, default=5.0, help="the tap's poll_interval_seconds")
    parser.add_argument("--latency-ms", type=int, default=200, help="the Stripe emulator's time per request")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory() as tmp,
        stripe_emulator(customers=300, latency_ms=args.latency_ms, rate_limit=25) as stripe,
        aep_emulator(store=Path(tmp) / "store", sandbox_preset="stripe") as aep,
    ):
        work = Path(tmp)
        catalog = work / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(STREAMS)))
        (work / "tap.json").write_text(
            json.dumps({"api_key": KEY, "api_url": stripe.url, "poll_interval_seconds": args.poll})
        )
        datasets = {s: {"dataset_id": EMULATOR_DATASETS[s], "inlet_id": INLET} for s in STREAMS}
        # Every file the target writes (dead letters, repairs, report) goes to the temporary folder, not the repo.
        target_config = emulator_target_config(aep.url, work) | {"ingestion_mode": "streaming", "datasets": datasets}
        (work / "target.json").write_text(json.dumps(target_config))
        with (work / "tap.log").open("w") as tap_log, (work / "target.log").open("w") as target_log:
            tap = subprocess.Popen(
                [f"{BIN}/tap-stripe-aep", "--config", str(work / "tap.json"), "--catalog", str(catalog)],
                stdout=subprocess.PIPE,
                stderr=tap_log,
                cwd=REPO_ROOT,
            )
            target = subprocess.Popen(
                [f"{BIN}/target-aep", "--config", str(work / "target.json")],
                stdin=tap.stdout,
                stdout=subprocess.DEVNULL,
                stderr=target_log,
                cwd=REPO_ROOT,
            )
            assert tap.stdout is not None
            tap.stdout.close()
            _wait_until_caught_up(work / "tap.log")
            changes = _make_changes(stripe.url, args.rate, args.seconds)
            time.sleep(args.poll * 2 + 10)  # the last changes' poll, delivery and confirmation
            tap.send_signal(signal.SIGTERM)
            tap.wait(timeout=60)
            target.wait(timeout=60)
        landed = _landed_at(work / "store" / EMULATOR_DATASETS["customers"])
        latencies = sorted(_latency(changed_at, landed.get(object_id, [])) for changed_at, object_id in changes)
        missing = sum(1 for value in latencies if value == float("inf"))
        found = [value for value in latencies if value != float("inf")]
        print(f"changes made: {len(changes)} in {args.seconds:.0f} s ({args.rate}/s); poll {args.poll} s")
        print(f"landed in AEP: {len(found)}; not landed: {missing}")
        if found:
            p50, p95 = found[int(0.5 * (len(found) - 1))], found[int(0.95 * (len(found) - 1))]
            print(f"latency Stripe change -> AEP acceptance: p50 {p50:.1f} s, p95 {p95:.1f} s, max {found[-1]:.1f} s")
        report = [line for line in (work / "target.log").read_text().splitlines() if "live changes" in line]
        print(f"target's own report: {report[-1].split('| ')[-1] if report else 'none'}")


def _wait_until_caught_up(tap_log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while "history and catch-up done" not in tap_log.read_text():
        if time.monotonic() > deadline:
            raise SystemExit("the tap did not finish its history in time; see its log")
        time.sleep(0.5)


def _make_changes(stripe_url: str, rate: float, seconds: float) -> list[tuple[float, str]]:
    """Update one customer every 1/rate s; returns (when, customer id) per change."""
    changes: list[tuple[float, str]] = []
    start = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        time.sleep(max(0.0, n / rate - elapsed))
        answer = requests.post(
            f"{stripe_url}/_emulator/mutate", json={"updates": 1, "resources": ["customers"]}, timeout=10
        ).json()
        changed_at = time.time()
        changes += [(changed_at, object_id) for object_id in answer["updated"].get("customers", [])]
        n += 1
    return changes


def _landed_at(dataset_dir: Path) -> dict[str, list[float]]:
    """Customer id -> times (the landed file's, written when AEP accepted the request) it landed at."""
    times: dict[str, list[float]] = {}
    for path in dataset_dir.glob("*.jsonl"):
        accepted = path.stat().st_mtime
        for line in path.read_text().splitlines():
            if line.strip():
                times.setdefault(json.loads(line)["_acme"]["stripe"]["id"], []).append(accepted)
    return times


def _latency(changed_at: float, landed: list[float]) -> float:
    # The mutate answer comes after the change: allow the request's round trip before it.
    after = [t for t in landed if t >= changed_at - 1.0]
    return max(0.0, min(after) - changed_at) if after else float("inf")


if __name__ == "__main__":
    main(sys.argv[1:])
