"""Knobs a test can turn at run time (``POST /_emulator/faults``) and the counters behind ``/_emulator/stats``."""

from __future__ import annotations

import random
import threading
from collections import Counter
from enum import Enum
from typing import Any


class Fault(Enum):
    RATE_LIMITED = 429
    UNAVAILABLE = 503
    SERVER_ERROR = 500
    DROP_CONNECTION = 0


class FaultPlan:
    """Latency, random faults, and the next-n queues for 429, 503 and failed batches."""

    def __init__(self, latency_ms: float, fault_rate: float, batch_processing_ms: float, seed: int = 7) -> None:
        self.latency_ms = latency_ms
        self.fault_rate = fault_rate
        self.batch_processing_ms = batch_processing_ms
        self._rate_limit_next = 0
        self._unavailable_next = 0
        self._fail_next_batches = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a ``/_emulator/faults`` body; unknown keys raise ``KeyError`` naming them."""
        known = {
            "latency_ms",
            "fault_rate",
            "batch_processing_ms",
            "rate_limit_next",
            "unavailable_next",
            "fail_next_batches",
            "expire_tokens",
        }
        unknown = sorted(set(changes) - known)
        if unknown:
            raise KeyError(", ".join(unknown))
        with self._lock:
            if "latency_ms" in changes:
                self.latency_ms = float(changes["latency_ms"])
            if "fault_rate" in changes:
                self.fault_rate = float(changes["fault_rate"])
            if "batch_processing_ms" in changes:
                self.batch_processing_ms = float(changes["batch_processing_ms"])
            self._rate_limit_next += int(changes.get("rate_limit_next", 0))
            self._unavailable_next += int(changes.get("unavailable_next", 0))
            self._fail_next_batches += int(changes.get("fail_next_batches", 0))
            return self.snapshot_locked()

    def snapshot_locked(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "fault_rate": self.fault_rate,
            "batch_processing_ms": self.batch_processing_ms,
            "rate_limit_next": self._rate_limit_next,
            "unavailable_next": self._unavailable_next,
            "fail_next_batches": self._fail_next_batches,
        }

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.snapshot_locked()

    def next_fault(self) -> Fault | None:
        """The fault, if any, for one Platform or DCS call (queued faults first, then the random rate)."""
        with self._lock:
            if self._rate_limit_next > 0:
                self._rate_limit_next -= 1
                return Fault.RATE_LIMITED
            if self._unavailable_next > 0:
                self._unavailable_next -= 1
                return Fault.UNAVAILABLE
            if self.fault_rate > 0 and self._random.random() < self.fault_rate:
                return self._random.choice([Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.DROP_CONNECTION])
            return None

    def take_batch_failure(self) -> bool:
        """True if the batch being completed must end ``failed`` (``fail_next_batches``)."""
        with self._lock:
            if self._fail_next_batches > 0:
                self._fail_next_batches -= 1
                return True
            return False


_ALWAYS_REPORTED = (
    "responses_429",
    "responses_503",
    "responses_500",
    "faults_dropped",
    "gateway_rejections",
    "batches_created",
    "batches_success",
    "batches_failed",
    "batches_aborted",
    "streaming_messages_accepted",
    "streaming_messages_rejected",
)


class Stats:
    """Thread-safe counters; ``snapshot()`` is what ``GET /_emulator/stats`` returns."""

    def __init__(self) -> None:
        # the counters tests read most are present from the start, at zero
        self._counts: Counter[str] = Counter({name: 0 for name in _ALWAYS_REPORTED})
        self._landed: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def landed(self, dataset_id: str, n: int) -> None:
        with self._lock:
            self._landed[dataset_id] += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**dict(sorted(self._counts.items())), "records_landed": dict(self._landed)}
