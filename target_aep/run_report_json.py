"""The run report as a JSON document: every figure the HTML report shows, for machines.

``build_document`` is the one place the figures are computed; ``run_report_html`` only lays this document out,
so the page and the JSON beside it can never disagree.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from target_aep.report import ReasonTally, RunReport, StreamCounts

FORMAT = "target-aep run report"
VERSION = 1
COUNT_NAMES = (
    "received",
    "landed",
    "repaired",
    "rejected",
    "rejected_by_aep",
    "in_failed_batches",
    "skipped",
    "not_confirmed",
)
PERCENTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
NO_DATASET = "(no dataset)"


@dataclass(frozen=True)
class RunOutcome:
    """How the run ended, as its exit status tells the caller."""

    status: str  # "succeeded", "failed" or "interrupted"
    exit_code: int
    message: str = ""

    @classmethod
    def succeeded(cls) -> RunOutcome:
        return cls("succeeded", 0)


@dataclass(frozen=True)
class RunFacts:
    """What the report says about the run beside the counts: mode, files, timings."""

    mode: str  # "batch", "streaming" or "output_dir"
    sandbox: str
    started_at: float  # epoch seconds
    finished_at: float
    dead_letter_path: str
    repairs_path: str | None = None
    input_seconds: float | None = None  # reading the input, None when the run stopped before its end
    confirm_seconds: float | None = None  # from the end of input to every delivery confirmed
    batch_upload_seconds: float = 0.0
    batch_processing_seconds: float = 0.0


def build_document(report: RunReport, outcome: RunOutcome, facts: RunFacts) -> dict[str, t.Any]:
    """The report's figures, all of them plain JSON values."""
    report.sample_throughput()  # the last point: the totals as the run ends
    with report._lock:  # a consistent view: deliveries in flight may still count
        streams = {name: _counts(c) for name, c in sorted(report.streams.items())}
        destinations = dict(report.destinations)
        rejects = _tallies(report.rejects)
        repairs = _tallies(report.repairs)
        batches = [vars(b).copy() for b in report.batches]
        batch_statuses = dict(report.batch_statuses)
        inlets = [{"stream": s, **vars(traffic)} for s, traffic in sorted(report.inlets.items())]
    stages = report.stage_totals()
    return {
        "format": FORMAT,
        "version": VERSION,
        "run": {
            "outcome": {"status": outcome.status, "exit_code": outcome.exit_code, "message": outcome.message},
            "mode": facts.mode,
            "sandbox": facts.sandbox,
            "started_at": _iso(facts.started_at),
            "finished_at": _iso(facts.finished_at),
            "seconds": round(facts.finished_at - facts.started_at, 3),
            "input_seconds": _round(facts.input_seconds),
            "confirm_seconds": _round(facts.confirm_seconds),
            "dead_letter_path": facts.dead_letter_path,
            "repairs_path": facts.repairs_path,
        },
        "totals": _sum(streams.values()),
        "streams": [
            {"stream": name, "dataset": destinations.get(name, NO_DATASET), **c} for name, c in streams.items()
        ],
        "datasets": _per_dataset(streams, destinations),
        "rejects": rejects,
        "repairs": repairs,
        "stages": _stages(stages, facts),
        "throughput": _throughput(report),
        "batches": {
            "by_status": batch_statuses,
            "total": sum(batch_statuses.values()),
            "listed": batches,  # the last ones, at most report.MAX_BATCHES_LISTED
        },
        "streaming": inlets,
        "latency": _latency(report),
    }


def _counts(c: StreamCounts) -> dict[str, int]:
    # Every record received is exactly one of: landed, rejected by the target, skipped (no dataset), sent in a
    # failed batch, or not confirmed yet (the run stopped while it was on its way).
    not_confirmed = c.received - c.landed - c.rejected - c.skipped - c.in_failed_batches
    return {
        "received": c.received,
        "landed": c.landed,
        "repaired": c.repaired,
        "rejected": c.rejected,
        "rejected_by_aep": c.rejected_by_aep,
        "in_failed_batches": c.in_failed_batches,
        "skipped": c.skipped,
        "not_confirmed": max(not_confirmed, 0),
    }


def _sum(rows: t.Iterable[dict[str, int]]) -> dict[str, int]:
    totals = dict.fromkeys(COUNT_NAMES, 0)
    for row in rows:
        for name in COUNT_NAMES:
            totals[name] += row[name]
    return totals


def _per_dataset(streams: dict[str, dict[str, int]], destinations: dict[str, str]) -> list[dict[str, t.Any]]:
    grouped: dict[str, list[str]] = {}
    for name in streams:
        grouped.setdefault(destinations.get(name, NO_DATASET), []).append(name)
    return [
        {"dataset": dataset, "streams": names, **_sum(streams[n] for n in names)}
        for dataset, names in sorted(grouped.items())
    ]


def _tallies(tallies: dict[str, dict[str, ReasonTally]]) -> list[dict[str, t.Any]]:
    rows = [
        {"stream": stream, "reason": reason, "count": tally.count, "examples": list(tally.examples)}
        for stream, by_reason in tallies.items()
        for reason, tally in by_reason.items()
    ]
    return sorted(rows, key=lambda row: (-row["count"], row["stream"], row["reason"]))


def _stages(stages: dict[str, float], facts: RunFacts) -> list[dict[str, t.Any]]:
    rows = [{"stage": stage, "seconds": round(seconds, 3)} for stage, seconds in sorted(stages.items())]
    if facts.batch_upload_seconds or facts.batch_processing_seconds:
        rows += [
            {"stage": "http: batch upload", "seconds": round(facts.batch_upload_seconds, 3)},
            {"stage": "http: AEP batch processing", "seconds": round(facts.batch_processing_seconds, 3)},
        ]
    return rows


def _throughput(report: RunReport) -> dict[str, t.Any]:
    rates = report.throughput.rates()
    points = report.throughput.points()
    seconds = points[-1].seconds if points else 0.0
    last = points[-1] if points else None
    return {
        "points": [[round(p.seconds, 3), p.received, p.landed] for p in points],  # cumulative counts
        "rates": [[round(s, 3), round(r, 2), round(landed, 2)] for s, r, landed in rates],  # per second
        "peak_received_per_second": round(max((r for _, r, _ in rates), default=0.0), 2),
        "peak_landed_per_second": round(max((landed for _, _, landed in rates), default=0.0), 2),
        "average_received_per_second": round(last.received / seconds, 2) if last and seconds else 0.0,
        "average_landed_per_second": round(last.landed / seconds, 2) if last and seconds else 0.0,
    }


def _latency(report: RunReport) -> dict[str, t.Any] | None:
    latencies = report.latencies
    if not len(latencies):
        return None
    figures: dict[str, t.Any] = {"count": len(latencies)}
    for name, share in PERCENTILES:
        figures[f"{name}_seconds"] = _round(latencies.percentile(share))
    figures["max_seconds"] = _round(latencies.longest)
    return figures


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
