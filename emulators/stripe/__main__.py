"""``python -m emulators.stripe``: generate the data, listen, and print ``READY http://127.0.0.1:<port>``."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import sys
import time

from emulators.launch import serve_until_stopped
from emulators.stripe.server import StripeServer
from emulators.stripe.shape import Shape
from emulators.stripe.state import Emulator, Knobs


def _pinned_api_version() -> str:
    try:
        import stripe

        return str(stripe.api_version)
    except ImportError:  # the emulator itself does not need the package
        return "2026-10-28.endive"


def _fewer_thread_switches() -> None:
    """The server runs a thread per connection, most of them sleeping out ``--latency-ms``, and each page is a few
    milliseconds of Python: at 100 requests/s, ``futex`` calls (threads taking the GIL from one another every
    5 ms, Python's default switch interval) and ``mprotect`` calls (each thread's own malloc arena growing and
    shrinking around pages of 100-200 KB) were a sixth of the emulator's CPU, as system time. A longer switch
    interval lets a page finish before another thread takes over (a request waits at most that long more, far
    below ``--latency-ms`` in a benchmark), and one malloc arena is shared by every thread (glibc's
    ``M_ARENA_MAX``; ignored where there is no glibc). What the emulator answers does not change."""
    sys.setswitchinterval(0.05)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(-8, 1)  # M_ARENA_MAX = -8 in glibc's malloc.h


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulators.stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--accounts", default="", help="Connect accounts, comma separated (acct_a,acct_b)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=0.0, help="requests/s per API key; 0 = off")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1 share of requests answered 500 or dropped")
    parser.add_argument("--history-days", type=int, default=730)
    parser.add_argument(
        "--disabled-products",
        default="",
        help="products every account lacks, comma separated (Issuing,Connect): their lists answer Stripe's error",
    )
    parser.add_argument(
        "--growth-doubling-days",
        type=float,
        default=0.0,
        help="a growing account: object density doubles every this many days (90: every quarter); 0 = even",
    )
    parser.add_argument(
        "--burst-days", type=int, default=0, help="bursty days (0-4), each holding 3%% of every growing list"
    )
    parser.add_argument(
        "--prebuild",
        action="store_true",
        help="build and encode every object before listening (benchmarks: serving a page is then a byte join)",
    )
    parser.add_argument("--now", type=int, default=None, help="the emulator's start time (Unix seconds)")
    args = parser.parse_args(argv)

    _fewer_thread_switches()
    started = time.monotonic()
    emulator = Emulator(
        seed=args.seed,
        customers=args.customers,
        accounts=[a.strip() for a in args.accounts.split(",") if a.strip()],
        history_days=args.history_days,
        api_version=_pinned_api_version(),
        knobs=Knobs(latency_ms=args.latency_ms, rate_limit=args.rate_limit, fault_rate=args.fault_rate),
        now=args.now,
        shape=Shape(growth_doubling_days=args.growth_doubling_days, burst_days=args.burst_days),
    )
    disabled = {p.strip() for p in args.disabled_products.split(",") if p.strip()}
    if disabled:
        emulator.disabled_products = {account: set(disabled) for account in emulator.data}
    # After ``disabled_products`` and every account's ``destinations``: what the objects are built from.
    built = f", {emulator.prebuild():,} objects prebuilt" if args.prebuild else ""
    server = StripeServer((args.host, args.port), emulator)
    print(
        f"stripe emulator: {args.customers} customers x {len(emulator.data)} account(s){built} "
        f"ready in {time.monotonic() - started:.2f} s",
        file=sys.stderr,
    )
    serve_until_stopped(server)


if __name__ == "__main__":
    main()
