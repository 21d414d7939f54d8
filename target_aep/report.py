"""Per-stream counts and per-stage timings of one run, logged at the end."""

from __future__ import annotations

import threading
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class StreamCounts:
    """What happened to one stream's records."""

    received: int = 0
    landed: int = 0
    rejected: int = 0  # by the target itself, before sending (mapping, validation, size)
    skipped: int = 0
    in_failed_batches: int = 0  # sent in batches AEP failed: not landed, sent again by the next run
    rejected_by_aep: int = 0  # rows of those batches AEP named as refused (each in the dead-letter file)
    first_reject_reason: str | None = None

    @property
    def all_rejected(self) -> bool:
        """Every record received was rejected: a mapping or schema problem rather than bad data."""
        return self.received > 0 and self.rejected == self.received


@dataclass
class ReasonTally:
    """How often one reason occurred in one stream, with the first few record ids as examples."""

    count: int = 0
    examples: list[str] = field(default_factory=list)  # at most MAX_EXAMPLES record ids

    MAX_EXAMPLES: t.ClassVar[int] = 5

    def add(self, record_id: str) -> None:
        self.count += 1
        if len(self.examples) < self.MAX_EXAMPLES:
            self.examples.append(record_id)


@dataclass
class RunReport:
    """Counts per stream and seconds per stage (``mapping``, ``validation``, ``serialization``, ``http``)."""

    streams: dict[str, StreamCounts] = field(default_factory=lambda: defaultdict(StreamCounts))
    # stream -> reason -> tally of the values the target left out or altered (each also in the repairs file)
    repairs: dict[str, dict[str, ReasonTally]] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, stream: str, *, landed: int = 0, skipped: int = 0, in_failed_batches: int = 0) -> None:
        """Thread-safe count update (sinks deliver from parallel drain threads)."""
        with self._lock:
            counts = self.streams[stream]
            counts.landed += landed
            counts.skipped += skipped
            counts.in_failed_batches += in_failed_batches

    def reject_by_aep(self, stream: str) -> None:
        """Count one row of ``stream`` that AEP refused in a failed batch."""
        with self._lock:
            self.streams[stream].rejected_by_aep += 1

    def reject(self, stream: str, reason: str) -> None:
        """Count one rejected record of ``stream``, keeping the stream's first reason for the end-of-run report."""
        with self._lock:
            counts = self.streams[stream]
            counts.rejected += 1
            if counts.first_reject_reason is None:
                counts.first_reject_reason = reason

    def count_repair(self, stream: str, reason: str, record_id: str) -> None:
        """Count one repaired value of ``stream`` under its reason (the sink calls it on the reading thread)."""
        with self._lock:
            tally = self.repairs.setdefault(stream, {}).get(reason)
            if tally is None:
                tally = self.repairs[stream][reason] = ReasonTally()
            tally.add(record_id)

    _stage_counters: list[dict[str, float]] = field(default_factory=list, repr=False)

    def add_seconds(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.stage_seconds[stage] += seconds

    def stage_counter(self) -> dict[str, float]:
        """A per-record stage timer for one thread's exclusive use, added to the totals at the end.

        Sinks time every record on the reading thread; a lock per record and stage cost more than the work
        timed, so each sink adds to its own dict and ``stage_totals`` sums them when the run is over.
        """
        counter: dict[str, float] = defaultdict(float)
        with self._lock:
            self._stage_counters.append(counter)
        return counter

    def stage_totals(self) -> dict[str, float]:
        with self._lock:
            totals = defaultdict(float, self.stage_seconds)
            for counter in self._stage_counters:
                for stage, seconds in list(counter.items()):
                    totals[stage] += seconds
        return dict(totals)

    @property
    def received(self) -> int:
        return sum(c.received for c in self.streams.values())

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.streams.values())

    @property
    def rejected_by_aep(self) -> int:
        return sum(c.rejected_by_aep for c in self.streams.values())

    def rejected_share(self) -> float:
        """Rejected records over records received for streams that were delivered (not skipped)."""
        considered = sum(c.received - c.skipped for c in self.streams.values())
        return self.rejected / considered if considered else 0.0

    def summary_lines(self) -> list[str]:
        lines = [
            f"stream {name}: received {c.received}, landed {c.landed}, rejected {c.rejected}"
            + (f", skipped {c.skipped} (no dataset: not sent, bookmark not advanced)" if c.skipped else "")
            + (
                f", in failed batches {c.in_failed_batches} (not landed; rejected by AEP {c.rejected_by_aep})"
                if c.in_failed_batches
                else ""
            )
            for name, c in sorted(self.streams.items())
        ]
        for name, reasons in sorted(self.repairs.items()):
            total = sum(tally.count for tally in reasons.values())
            by_reason = "; ".join(
                f"{reason} ({tally.count}, e.g. {', '.join(tally.examples)})"
                for reason, tally in sorted(reasons.items(), key=lambda item: -item[1].count)
            )
            lines.append(f"stream {name}: {total} values repaired to fit the schema: {by_reason}")
        stages = self.stage_totals()
        if stages:
            lines.append(
                "time by stage: " + ", ".join(f"{stage} {secs:.3f} s" for stage, secs in sorted(stages.items()))
            )
        return lines
