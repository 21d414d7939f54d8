"""Batch mode: the records every stream of a dataset hands over at the same drain go to AEP as one batch.

Why: AEP's guardrail (about 90 Profile batches a day a sandbox, "prefer few large batches"). With one AEP batch per
stream, 100,000 records of 22 streams made 56 batches for 3 datasets, 52 of them small ones handed over at the end
of input, and a pipeline run hourly on 40 streams would make about 1,000 a day.

How:
- A drain of every sink (``TargetAEP.drain_all``: at a STATE, at the end of input, on the record age or
  ``max_state_lag_seconds``) opens a ``handover``: each sink's ``process_batch`` leaves its batch here as a
  ``StreamPart`` instead of delivering it, and ``hand_over`` (before the STATE is written, and when the drain
  ends) makes one AEP batch per dataset of them, several only where the parts together pass ``batch_max_bytes``.
  A stream's part is never split between batches.
- A sink full by its own bounds (``batch_max_records``, ``batch_max_bytes``) during the input delivers its batch
  alone and at once: it is already large, and joining the other streams of its dataset would mean holding it back
  (memory, and the reader waits) or draining their partial buffers early. When the streams together fill the
  shared buffer, the fullest dataset drains whole in one handover (``shared_buffer``, ``TargetAEP.drain_together``).
- Each stream's lines are their own file(s) of the batch, named after the stream: AEP names the file of each row
  it refuses (``_filename``), so a refused row is traced to its stream and record (``refused_rows``).
- Order: a stream's next part waits for its previous delivery (``wait_for``), as when each stream had its own
  batches; a dataset batch counts as in flight for every stream it carries. A second part of a stream within one
  drain (a sink replaced by a new SCHEMA) first hands over what was gathered, so it goes in a later batch.
- State: unchanged. The STATE line is written after ``hand_over`` and ``DeliveryQueue.wait_all``, so only once
  AEP accepted every batch before it; a failed batch raises there and no STATE covers any stream it carried.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import typing as t
from dataclasses import dataclass

from target_aep.line_batch import batch_files

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from concurrent.futures import Future

    from target_aep.aep.catalog import DatasetTarget
    from target_aep.delivery_queue import DeliveryQueue

logger = logging.getLogger("target-aep.batch")


@dataclass
class StreamPart:
    """One stream's lines in an AEP batch, with what names each line's record if AEP refuses its row."""

    stream: str
    lines: Sequence[bytes]
    record_ids: Sequence[object]  # record_ids[i]: the Stripe id (or key) of the record of lines[i]
    size: int  # bytes of the lines
    landed: Callable[[str], None]  # the stream's bookkeeping once AEP accepted the batch (given its id)


class DatasetBatches:
    """Makes AEP batches of stream parts, per dataset, and keeps each stream's deliveries in order."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        send: Callable[[DatasetTarget, Sequence[StreamPart]], str],
        max_bytes: int,
    ) -> None:
        self._deliveries = deliveries
        self._send = send  # lands the parts as one AEP batch; returns its id once ``success``, else raises
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._gathering = False
        self._gathered: dict[str, tuple[DatasetTarget, list[StreamPart]]] = {}
        self._in_flight: dict[str, Future[None]] = {}

    @contextlib.contextmanager
    def handover(self) -> Iterator[None]:
        """Within it, ``offer`` gathers parts by dataset; they are handed over when it ends (or at ``hand_over``).

        A drain that raises hands nothing over: the run ends there, and no STATE covers those records.
        """
        self._gathering = True
        try:
            yield
        except BaseException:
            with self._lock:
                self._gathered = {}
            raise
        finally:
            self._gathering = False
        self.hand_over()

    def offer(self, dataset: DatasetTarget, part: StreamPart) -> None:
        """A sink's batch: gathered with its dataset's other streams during a handover, else delivered alone."""
        self.wait_for(part.stream)
        if not self._gathering:
            self._submit(dataset, [part])
            return
        with self._lock:
            again = any(p.stream == part.stream for _, parts in self._gathered.values() for p in parts)
        if again:  # its earlier part goes first, in a batch of its own that completes before this part's
            self.hand_over()
            self.wait_for(part.stream)
        with self._lock:
            self._gathered.setdefault(dataset.dataset_id, (dataset, []))[1].append(part)

    def hand_over(self) -> None:
        """Deliver every gathered part: one AEP batch per dataset, split where the parts pass ``max_bytes``."""
        with self._lock:
            gathered, self._gathered = self._gathered, {}
        for dataset, parts in gathered.values():
            for batch in split_by_bytes(parts, self._max_bytes):
                self._submit(dataset, batch)

    def wait_for(self, stream: str) -> None:
        """Return once the stream's last delivery is accepted; raise if it failed."""
        with self._lock:
            previous = self._in_flight.get(stream)
        if previous is not None:
            previous.result()

    def _submit(self, dataset: DatasetTarget, parts: list[StreamPart]) -> None:
        size = sum(part.size for part in parts)
        future = self._deliveries.submit(lambda: self._deliver(dataset, parts), size)
        with self._lock:
            for part in parts:
                self._in_flight[part.stream] = future

    def _deliver(self, dataset: DatasetTarget, parts: Sequence[StreamPart]) -> None:
        batch_id = self._send(dataset, parts)
        logger.info(
            "Batch %s: %d records landed in dataset %s (%s)",
            batch_id,
            sum(len(part.lines) for part in parts),
            dataset.dataset_id,
            ", ".join(f"{part.stream} {len(part.lines)}" for part in parts),
        )
        for part in parts:
            part.landed(batch_id)


def split_by_bytes(parts: Sequence[StreamPart], max_bytes: int) -> list[list[StreamPart]]:
    """The parts in order, cut into batches of at most ``max_bytes`` (a larger part is a batch of its own)."""
    batches: list[list[StreamPart]] = []
    current: list[StreamPart] = []
    size = 0
    for part in parts:
        if current and size + part.size > max_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(part)
        size += part.size
    if current:
        batches.append(current)
    return batches


def named_files(
    parts: Sequence[StreamPart], max_file_bytes: int
) -> tuple[list[tuple[str, bytes | memoryview]], dict[str, int]]:
    """The batch's files, each holding one stream's lines (``charges-00001.json``, ...), and each file's part.

    A file name keeps only letters, digits, ``_``, ``-`` and ``.`` of the stream's name (a stream map may name a
    stream anything); the part's position is added should two streams then read alike.
    """
    files: list[tuple[str, bytes | memoryview]] = []
    part_of: dict[str, int] = {}
    for index, part in enumerate(parts):
        stem = _FILE_STEM.sub("_", part.stream).lstrip(".") or "stream"
        if any(name.startswith(f"{stem}-") for name in part_of):
            stem = f"{stem}-{index}"
        for number, body in enumerate(batch_files(part.lines, max_file_bytes), start=1):
            name = f"{stem}-{number:05d}.json"
            files.append((name, body))
            part_of[name] = index
    return files, part_of


_FILE_STEM = re.compile(r"[^A-Za-z0-9_.-]")
