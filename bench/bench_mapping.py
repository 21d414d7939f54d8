"""Mapping benchmark: the XDM mapping alone (`XdmMapper.map`), per record, per stream and per step.

``python -m bench.bench_mapping`` maps the target benchmark's 100,000 records (`bench_target`'s records, in its
input order and grouped by stream) with the mappers the target builds at start-up (each stream into the dataset
schema of its default XDM class, tenant `acme`), and prints CPU µs a record (best of ``--rounds``), the mapping's
cost per stream, the cost of each rule of the readable mapping per stream (``--steps``), and the CPU time to build
the 52 streams' mappers. No process, no I/O: the figures are the mapping's own, not the target's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_target import _bench_record  # noqa: E402
from target_aep.xdm import build_mapper  # noqa: E402
from target_aep.xdm.stream_classes import default_xdm_class  # noqa: E402
from tests.target.write_singer_files import sample_records  # noqa: E402

SCHEMA_FILES = {
    "profile": "stripe-customer-profile.schema.json",
    "experienceevent": "stripe-commerce-event.schema.json",
    "record": "stripe-catalog-record.schema.json",
}


def bench_records(total: int) -> list[tuple[str, dict[str, Any]]]:
    """`bench_target`'s records in its interleaved input order: round after round, every stream's samples."""
    samples = sample_records()
    streams = sorted(samples)
    records: list[tuple[str, dict[str, Any]]] = []
    round_number = 0
    while len(records) < total:
        for stream in streams:
            for record in samples[stream]:
                if len(records) < total:
                    records.append((stream, _bench_record(record, round_number)))
        round_number += 1
    return records


def build_mappers(streams: list[str], *, reference: bool = False) -> dict[str, Any]:
    schemas = {cls: json.loads((REPO / "xdm" / name).read_text()) for cls, name in SCHEMA_FILES.items()}
    return {
        stream: build_mapper(stream, schemas[default_xdm_class(stream)], tenant_id="acme", reference=reference)
        for stream in streams
    }


def _loop_seconds(mappers: dict[str, Any], records: list[tuple[str, dict[str, Any]]], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for stream, record in records:
            mapper = mappers[stream]
            with suppress(ValueError):  # a record the sink would dead-letter (an amount without currency)
                mapper.map(record)
            mapper.repairs.pending.clear()
        best = min(best, time.process_time() - started)
    return best


def per_stream(mappers: dict[str, Any], records: list[tuple[str, dict[str, Any]]], rounds: int) -> dict[str, float]:
    """µs a record of each stream's mapping, its records mapped one after another (best of `rounds`)."""
    by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stream, record in records:
        by_stream[stream].append(record)
    costs = {}
    for stream, items in by_stream.items():
        costs[stream] = _loop_seconds(mappers, [(stream, r) for r in items], rounds) / len(items) * 1e6
    return costs


def per_step(mappers: dict[str, Any], records: list[tuple[str, dict[str, Any]]]) -> dict[str, float]:
    """µs a record (over all records) of each rule of the readable mapping: its producer and its fitting."""
    totals: dict[str, float] = defaultdict(float)
    by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stream, record in records:
        by_stream[stream].append(record)
    for stream, items in by_stream.items():
        mapper = mappers[stream]
        for produce, _plain, fit, target, on_drop, _parents, _last in mapper._plans:
            started = time.process_time()
            for record in items:
                try:
                    value = produce(record, mapper.repairs)
                except ValueError:
                    continue
                if value is not None:
                    fit(value, target, on_drop)
            totals[target.replace("_acme", "_{tenant}")] += time.process_time() - started
            mapper.repairs.pending.clear()
    return {step: seconds / len(records) * 1e6 for step, seconds in totals.items()}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="best of this many loops")
    parser.add_argument("--streams", action="store_true", help="also print µs a record per stream")
    parser.add_argument("--steps", action="store_true", help="also print each readable rule's µs a record")
    args = parser.parse_args(argv)
    records = bench_records(args.records)
    streams = sorted({stream for stream, _ in records})
    started = time.process_time()
    mappers = build_mappers(streams)
    built = time.process_time() - started
    print(f"mappers: {len(mappers)} streams built in {built:.3f} s CPU")
    interleaved = _loop_seconds(mappers, records, args.rounds) / len(records) * 1e6
    grouped = sorted(records, key=lambda item: item[0])
    by_stream = _loop_seconds(mappers, grouped, args.rounds) / len(records) * 1e6
    print(f"mapping, input order: {interleaved:.2f} µs a record; grouped by stream: {by_stream:.2f} µs a record")
    if args.streams:
        counts: dict[str, int] = defaultdict(int)
        for stream, _ in records:
            counts[stream] += 1
        costs = per_stream(mappers, records, args.rounds)
        print("stream                          records   µs a record   share of the mapping")
        total = sum(costs[s] * counts[s] for s in costs)
        for stream, cost in sorted(costs.items(), key=lambda item: -item[1] * counts[item[0]]):
            print(f"{stream:32s}{counts[stream]:7d}   {cost:9.2f}   {cost * counts[stream] / total:8.1%}")
    if args.steps:
        reference = build_mappers(streams, reference=True)
        steps = per_step(reference, records)
        print("readable rule (produce + fit)   µs a record (all records)")
        for step, cost in sorted(steps.items(), key=lambda item: -item[1]):
            print(f"{step:32s}{cost:9.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
