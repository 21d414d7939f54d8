"""CPU per record of the tap's record loop, in one process, without HTTP (issue 10, session 8).

``python -m bench.tap_record_loop [--streams charges,invoices,customers] [--pages 50]`` fetches one page of 100
objects of each stream from a Stripe emulator, then times the SDK's record loop for one partition
(``Stream._sync_records(context)``, as ``interleave.py`` drives it) over that page decoded ``--pages`` times:
``exact_json.decode_page``, ``make_record`` (timestamps, ``updated``, ``account_id``), the per-record steps, the
RECORD line, the write to stdout (``/dev/null``). Prints the best of five in µs of CPU a record. Reading,
scheduling and threads are left out: ``python -m bench.tap_cpu`` measures the whole tap.

To compare with another checkout, run this file with that checkout first on the path:
``cd OTHER && PYTHONPATH=OTHER /path/to/.venv/bin/python /path/to/bench/tap_record_loop.py``.
Not part of ``make bench``: a measurement tool.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

from emulators.launch import stripe_emulator

KEY = "sk_test_emulator_0000000000000000"
ACCOUNT = "acct_emulator_platform"


def fetch_pages(streams: list[str]) -> dict[str, bytes]:
    """One page (``limit=100``) of each stream's list, from a fresh emulator."""
    from tap_stripe_aep.stream_catalog import stream_named

    emulator = stripe_emulator(customers=1500).start()
    try:
        pages = {}
        for name in streams:
            request = urllib.request.Request(
                f"{emulator.url}{stream_named(name).list_path}?limit=100", headers={"Authorization": f"Bearer {KEY}"}
            )
            with urllib.request.urlopen(request) as response:
                pages[name] = response.read()
        return pages
    finally:
        emulator.stop()


def record_loop_microseconds(name: str, body: bytes, repeats: int) -> float:
    """Best of five: CPU µs a record of one partition's record loop over ``body`` decoded ``repeats`` times."""
    from tap_stripe_aep.exact_json import decode_page
    from tap_stripe_aep.streams.base import StripeStream
    from tap_stripe_aep.tap import TapStripeAEP

    tap = TapStripeAEP(config={"api_key": KEY}, validate_config=False, setup_mapper=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == name
    tap = TapStripeAEP(config={"api_key": KEY, "api_url": "http://127.0.0.1:9"}, catalog=catalog, validate_config=False)
    stream = tap.streams[name]
    count = len(json.loads(body)["data"]) * repeats

    def get_records(self: StripeStream, context: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        self.remember_partition_state(context, self.get_context_state(context))
        self._account = ACCOUNT
        for _ in range(repeats):
            for obj in decode_page(body, "utf-8")["data"]:
                yield self.make_record(obj, updated=None, is_deleted=False)

    StripeStream.get_records = get_records  # type: ignore[method-assign,assignment]  # this process only measures
    saved, sys.stdout = sys.stdout, io.TextIOWrapper(open(os.devnull, "wb"), encoding="utf-8")  # noqa: SIM115
    try:
        best = float("inf")
        for _ in range(5):
            start = time.process_time()
            for _ in stream._sync_records(context={"account_id": ACCOUNT}):
                pass
            best = min(best, time.process_time() - start)
    finally:
        sys.stdout.close()
        sys.stdout = saved
    return best / count * 1e6


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tap_record_loop", description=__doc__)
    parser.add_argument("--streams", default="charges,invoices,customers,balance_transactions")
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args(argv)
    streams = args.streams.split(",")
    for name, body in fetch_pages(streams).items():
        print(f"{name}: {record_loop_microseconds(name, body, args.pages):.2f} µs of CPU a record", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
