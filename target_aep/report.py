"""Per-stream counts and per-stage timings of one run, logged at the end and written as the run report.

Everything here stays bounded over a run of any length (continuous mode runs for days): reasons keep at most
``ReasonTally.MAX_EXAMPLES`` example ids and a stream at most ``MAX_REASONS_PER_STREAM`` distinct reasons, batches
keep per-status counts and the last ``MAX_BATCHES_LISTED`` ids, and the samples in ``run_samples`` are bounded.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field

from target_aep.run_samples import LatencyReservoir, ThroughputSamples

MAX_REASONS_PER_STREAM = 30
MAX_BATCHES_LISTED = 200
OTHER_REASONS = "(other reasons: see the file)"

# A reason names its record's own value ("currency 'usdollars' is not ...", "'x@' is not a 'email'", "the amount
# 1500"): tallied as given, each record would be a reason of its own. The value goes; the field and rule stay.
_VALUE_BEFORE_VERB = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\b\d+(?:\.\d+)?\b)(?= (?:is|does) )""")
_AMOUNT = re.compile(r"\b(amount|of) -?\d+(?:\.\d+)?\b")


def reason_kind(reason: str) -> str:
    """``reason`` without the record's own values, so that records rejected for one cause share one tally."""
    kind = _VALUE_BEFORE_VERB.sub("…", reason)
    kind = _AMOUNT.sub(r"\1 …", kind)
    return kind if len(kind) <= 300 else kind[:299] + "…"


def id_text(record_id: object) -> str:
    """A record id as the report shows it: the Stripe id, or a composite key's values joined."""
    if isinstance(record_id, dict):
        text = " / ".join(str(v) for v in record_id.values())
    elif isinstance(record_id, list | tuple):
        text = " / ".join(str(v) for v in record_id)
    else:
        text = "" if record_id is None else str(record_id)
    return text if len(text) <= 120 else text[:119] + "…"


@dataclass
class ReasonTally:
    """How many records one reason concerned, with the first few ids as examples."""

    MAX_EXAMPLES = 5

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, record_id: object) -> None:
        self.count += 1
        if len(self.examples) < self.MAX_EXAMPLES:
            text = id_text(record_id)
            if text and text not in self.examples:
                self.examples.append(text)


@dataclass
class BatchOutcome:
    """One AEP batch: where it went, the streams it carried (records of each) and how it ended."""

    batch_id: str
    streams: dict[str, int]
    dataset_id: str
    records: int
    status: str


@dataclass
class InletTraffic:
    """What one stream sent through a streaming inlet to one dataset."""

    inlet_id: str
    dataset_id: str
    deliveries: int = 0  # batches of records handed to the inlet (each one or more requests)
    sent: int = 0
    accepted: int = 0
    refused: int = 0


@dataclass
class StreamCounts:
    """What happened to one stream's records."""

    received: int = 0
    landed: int = 0
    rejected: int = 0  # by the target itself, before sending (mapping, validation, size)
    skipped: int = 0
    in_failed_batches: int = 0  # sent in batches AEP failed: not landed, sent again by the next run
    rejected_by_aep: int = 0  # rows of those batches AEP named as refused (each in the dead-letter file)
    repaired: int = 0  # records with at least one value left out or altered to fit the schema (landed anyway)
    first_reject_reason: str | None = None
    last_repaired_id: object = field(default=None, repr=False)

    @property
    def all_rejected(self) -> bool:
        """Every record received was rejected: a mapping or schema problem rather than bad data."""
        return self.received > 0 and self.rejected == self.received


@dataclass
class RunReport:
    """Counts per stream and seconds per stage (``mapping``, ``validation``, ``serialization``, ``http``)."""

    streams: dict[str, StreamCounts] = field(default_factory=lambda: defaultdict(StreamCounts))
    stage_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rejects: dict[str, dict[str, ReasonTally]] = field(default_factory=dict)  # stream -> reason -> tally
    repairs: dict[str, dict[str, ReasonTally]] = field(default_factory=dict)  # stream -> reason -> tally
    destinations: dict[str, str] = field(default_factory=dict)  # stream -> dataset id (or local file)
    batches: deque[BatchOutcome] = field(default_factory=lambda: deque(maxlen=MAX_BATCHES_LISTED))
    batch_statuses: Counter[str] = field(default_factory=Counter)  # every batch of the run, by final status
    inlets: dict[str, InletTraffic] = field(default_factory=dict)  # stream -> streaming traffic
    latencies: LatencyReservoir = field(default_factory=LatencyReservoir)
    throughput: ThroughputSamples = field(default_factory=ThroughputSamples)
    # Re-entrant: the stop-signal handler writes the report on the main thread, which may hold the lock already.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _sampling: threading.Event | None = field(default=None, repr=False)

    def add(self, stream: str, *, landed: int = 0, skipped: int = 0, in_failed_batches: int = 0) -> None:
        """Thread-safe count update (sinks deliver from parallel drain threads)."""
        with self._lock:
            counts = self.streams[stream]
            counts.landed += landed
            counts.skipped += skipped
            counts.in_failed_batches += in_failed_batches

    def reject_by_aep(self, stream: str, reason: str = "rejected by AEP", record_id: object = None) -> None:
        """Count one row of ``stream`` that AEP refused in a failed batch, tallied by AEP's reason."""
        with self._lock:
            self.streams[stream].rejected_by_aep += 1
            self._tally(self.rejects, stream, reason, record_id)

    def count_reject(self, stream: str, reason: str, record_id: object = None) -> None:
        """Count one record of ``stream`` the target rejected (dead-lettered), tallied by reason with its id."""
        with self._lock:
            counts = self.streams[stream]
            counts.rejected += 1
            if counts.first_reject_reason is None:
                counts.first_reject_reason = reason
            self._tally(self.rejects, stream, reason, record_id)

    def count_repair(self, stream: str, reason: str, record_id: object = None) -> None:
        """Count one value of a record of ``stream`` left out or altered to fit the schema, tallied by reason.

        A record repaired in several fields counts once in ``StreamCounts.repaired``: a stream's records are
        mapped one after the other, so the calls for one record come together.
        """
        with self._lock:
            counts = self.streams[stream]
            if record_id is None or record_id != counts.last_repaired_id:
                counts.repaired += 1
                counts.last_repaired_id = record_id
            self._tally(self.repairs, stream, reason, record_id)

    def record_latency(self, seconds: float) -> None:
        """One change's latency, from Stripe to its acceptance in AEP (continuous mode)."""
        self.latencies.add(seconds)

    def land_in(self, stream: str, destination: str) -> None:
        """Where ``stream``'s records go (a dataset id, or a local file in output_dir mode)."""
        with self._lock:
            self.destinations[stream] = destination

    def record_batch(self, streams: dict[str, int], dataset_id: str, batch_id: str, status: str) -> None:
        """An AEP batch carrying ``streams`` (records of each) reached its final status (``success``, ``failed``,
        ``aborted``, ...)."""
        with self._lock:
            self.batches.append(BatchOutcome(batch_id, dict(streams), dataset_id, sum(streams.values()), status))
            self.batch_statuses[status] += 1

    def record_streaming(self, stream: str, dataset_id: str, inlet_id: str, *, sent: int, refused: int) -> None:
        """One streaming delivery of ``stream``: ``sent`` messages, ``refused`` of them refused for good."""
        with self._lock:
            traffic = self.inlets.get(stream)
            if traffic is None:
                traffic = self.inlets[stream] = InletTraffic(inlet_id, dataset_id)
            traffic.deliveries += 1
            traffic.sent += sent
            traffic.accepted += sent - refused
            traffic.refused += refused

    def start_sampling(self, interval_seconds: float = 1.0) -> None:
        """Sample the throughput every ``interval_seconds`` in a daemon thread until ``stop_sampling``.

        A thread rather than a check per record: the reading thread's per-record path stays as it was, and a
        stalled run still shows its stall (a flat line) in the chart.
        """
        self._sampling = threading.Event()

        def sample_until_stopped(stop: threading.Event) -> None:
            while not stop.wait(interval_seconds):
                self.sample_throughput()

        threading.Thread(
            target=sample_until_stopped, args=(self._sampling,), name="run-report-sampler", daemon=True
        ).start()

    def stop_sampling(self) -> None:
        if self._sampling is not None:
            self._sampling.set()

    def sample_throughput(self) -> None:
        """Note the cumulative records received and landed now (called about once a second, and at the end)."""
        counts = list(self.streams.values())  # one C-level copy: the reading thread may add a stream meanwhile
        self.throughput.sample(sum(c.received for c in counts), sum(c.landed for c in counts))

    @staticmethod
    def _tally(tallies: dict[str, dict[str, ReasonTally]], stream: str, reason: str, record_id: object) -> None:
        by_reason = tallies.setdefault(stream, {})
        kind = reason_kind(reason)
        tally = by_reason.get(kind)
        if tally is None:
            if len(by_reason) >= MAX_REASONS_PER_STREAM:
                kind = OTHER_REASONS
            tally = by_reason.setdefault(kind, ReasonTally())
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

    @property
    def landed(self) -> int:
        return sum(c.landed for c in self.streams.values())

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
        if len(self.latencies):
            p50, p95 = self.latencies.percentile(0.50), self.latencies.percentile(0.95)
            lines.append(
                f"latency of {len(self.latencies)} live changes, Stripe to AEP confirmation: "
                f"p50 {p50:.1f} s, p95 {p95:.1f} s, max {self.latencies.longest:.1f} s"
            )
        stages = self.stage_totals()
        if stages:
            lines.append(
                "time by stage: " + ", ".join(f"{stage} {secs:.3f} s" for stage, secs in sorted(stages.items()))
            )
        return lines
