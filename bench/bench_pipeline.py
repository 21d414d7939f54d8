"""End-to-end backfill benchmark: Stripe emulator -> tap-stripe-aep | target-aep -> AEP emulator (batch mode).

``python -m bench pipeline`` or ``python -m bench.bench_pipeline [--customers N] [--latency-ms 200]
[--rate-limit 90]``. Both emulators run as their own processes; the tap and the target run as the real CLIs joined
by a pipe, as on a shell. Prints objects/s from Stripe to landed-in-AEP, wall time, each program's peak RSS, and
what that rate means for a 10-million-object history. On a 2-core machine the four processes share two cores, so
the figure is a floor for a machine where the tap and the target each have a core of their own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from emulators.launch import REPO_ROOT, aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS

BIN = Path(sys.executable).parent
KEY = "sk_test_emulator_0000000000000000"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_pipeline", description=__doc__)
    parser.add_argument("--customers", type=int, default=6000, help="emulator size (about 17 objects each)")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rate-limit", type=float, default=90, help="requests/s (Stripe live mode allows 100)")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory() as tmp,
        stripe_emulator(customers=args.customers, latency_ms=args.latency_ms, rate_limit=args.rate_limit) as stripe,
        aep_emulator(store=Path(tmp) / "store", sandbox_preset="stripe") as aep,
    ):
        tap_config, target_config = Path(tmp) / "tap.json", Path(tmp) / "target.json"
        tap_config.write_text(
            json.dumps({"api_key": KEY, "api_url": stripe.url, "max_requests_per_second": args.rate_limit})
        )
        target_config.write_text(json.dumps(_target_config(aep.url, Path(tmp))))
        command = (
            "set -o pipefail; "
            f"/usr/bin/time -f 'tap peak RSS %M KB' {BIN}/tap-stripe-aep --config {tap_config} 2>{tmp}/tap.log "
            f"| /usr/bin/time -f 'target peak RSS %M KB' {BIN}/target-aep --config {target_config} "
            f"2>{tmp}/target.log >{tmp}/state.jsonl"
        )
        started = time.monotonic()
        done = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, check=False)
        wall = time.monotonic() - started
        landed = {ds: len(_get(f"{aep.url}/_emulator/landed/{ds}")) for ds in set(EMULATOR_DATASETS.values())}
        peaks = [line for name in ("tap", "target") for line in _tail(Path(tmp) / f"{name}.log") if "peak RSS" in line]

    total = sum(landed.values())
    rate = total / wall
    print(f"pipeline exit code   {done.returncode}")
    print(f"objects landed       {total:,}  {landed}")
    print(f"wall time            {wall:.1f} s")
    ceiling = 100 * args.rate_limit
    print(f"objects/s            {rate:,.0f}  (Stripe's ceiling at {args.rate_limit:g} req/s: {ceiling:,.0f})")
    print(f"10 M objects         {10_000_000 / rate / 3600:.1f} h at this rate")
    for line in peaks:
        print(line)


def _target_config(aep_url: str, tmp: Path) -> dict[str, object]:
    return {
        "client_id": "emulator-client-id",
        "client_secret": "emulator-client-secret",
        "org_id": "EMULATOR0000000000000001@AdobeOrg",
        "ims_url": aep_url,
        "platform_url": aep_url,
        "streaming_url": aep_url,
        "dead_letter_path": str(tmp / "rejected.jsonl"),
        "repairs_path": str(tmp / "repairs.jsonl"),
        "datasets": {stream: {"dataset_id": dataset_id} for stream, dataset_id in EMULATOR_DATASETS.items()},
    }


def _get(url: str) -> list[dict[str, object]]:
    response = requests.get(url, timeout=120)
    response.raise_for_status()
    return response.json()


def _tail(path: Path) -> list[str]:
    return path.read_text().splitlines()[-5:] if path.exists() else []


if __name__ == "__main__":
    main(sys.argv[1:])
