"""Tap backfill benchmark: every stream from a Stripe emulator with Stripe's test-mode latency and rate limit.

``python -m bench tap`` or ``python -m bench.bench_tap [--customers N] [--latency-ms 200] [--rate-limit 25]``.
Starts the emulator, runs ``tap-stripe-aep`` as a subprocess with ``max_requests_per_second`` equal to the
emulator's limit, counts RECORD lines (with ``grep -c``, so counting costs the tap nothing), and prints objects/s,
wall time and the tap's peak RSS next to the ceiling Stripe allows (100 objects a page x the rate limit).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulators.launch import REPO_ROOT, stripe_emulator

KEY = "sk_test_emulator_0000000000000000"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_tap", description=__doc__)
    parser.add_argument("--customers", type=int, default=9000, help="emulator size (about 17 objects each)")
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rate-limit", type=float, default=25)
    parser.add_argument("--max-concurrency", type=int, help="default: the tap's own (sized from the rate)")
    parser.add_argument("--tap-log", help="write the tap's log (stderr) to this file")
    args = parser.parse_args(argv)

    with (
        stripe_emulator(customers=args.customers, latency_ms=args.latency_ms, rate_limit=args.rate_limit) as emulator,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = Path(tmp) / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_key": KEY,
                    "api_url": emulator.url,
                    # --rate-limit 0 measures the tap's own CPU ceiling: no limit to speak of on either side.
                    "max_requests_per_second": args.rate_limit or 10_000,
                    **({"max_concurrency": args.max_concurrency} if args.max_concurrency else {}),
                }
            )
        )
        log = open(args.tap_log, "w") if args.tap_log else subprocess.DEVNULL  # noqa: SIM115
        started = time.monotonic()
        tap = subprocess.Popen(
            [sys.executable, "-m", "tap_stripe_aep.tap", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO_ROOT,
        )
        counter = subprocess.run(
            ["grep", "-c", '"type":"RECORD"'], stdin=tap.stdout, capture_output=True, text=True, check=False
        )
        code = tap.wait()
        wall = time.monotonic() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        stats = _stats(emulator.url)
    records = int(counter.stdout.strip() or 0)
    ceiling = 100 * args.rate_limit
    print(f"tap exit code     {code}")
    print(f"records           {records:,}")
    print(f"wall time         {wall:.1f} s")
    if ceiling:
        print(
            f"objects/s         {records / wall:,.0f}  (ceiling {ceiling:,.0f}: 100 a page x {args.rate_limit:g} req/s)"
        )
        print(f"share of ceiling  {records / wall / ceiling:.0%}")
    else:
        print(f"objects/s         {records / wall:,.0f}  (no rate limit: the tap's own ceiling)")
    print(f"peak RSS (tap)    {peak_rss_mb:.0f} MB")
    print(f"emulator stats    {stats}")


def _stats(url: str) -> object:
    import requests

    try:
        return requests.get(f"{url}/_emulator/stats", timeout=10).json()
    except (requests.RequestException, ValueError):
        return "unavailable"


if __name__ == "__main__":
    main(sys.argv[1:])
