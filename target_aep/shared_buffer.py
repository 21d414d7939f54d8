"""The buffer every stream shares: when the streams together hold ``TOTAL_BUFFER_BYTES``, which of them drain.

The budget is ``TOTAL_BUFFER_BYTES``, plus as much as ``batch_max_bytes`` was raised above its default: a dataset's
batch can reach the size set.

Why a shared bound: ``batch_max_records`` and ``batch_max_bytes`` bound each stream, and a tap sends dozens of
streams: with 50,000 records allowed in each, a long run held over a million lines at once and its memory grew
with the input.

The rule: past the budget, the **group holding the most bytes drains, all its streams at once**, where a group is
what one drain can make one batch of: in batch mode a dataset (``dataset_batches`` makes one AEP batch of its
streams' parts, cut only at ``batch_max_bytes``), otherwise a stream (a local file or streaming sends each stream
on its own). Until session 6 the stream being written drained alone once it held its fair share of the budget
(the budget over the streams holding records): in a 100,000-record run, 5 of the 8 AEP batches were single
streams of 1,500-2,400 records drained so, against AEP's guardrail of few large batches.

Why this bounds memory: the fullest of ``g`` groups holds at least ``1/g`` of what is held, so each drain frees at
least that share (a third with the three datasets of a Stripe sandbox). The check runs each time the streams
together added ``BUDGET_CHECK_STEP``, whichever stream is written (with mapping workers a line is kept a chunk
after its record arrived, often in a stream the tap has finished): what the streams hold stays under the budget
plus one check step and the chunk being completed (the old rule checked per stream: one step a stream, 52 x 64
KB). Fewer, larger batches: a drain takes a dataset's every stream, so the next drain again takes a dataset whole.
What drained batches hold in flight is bounded by ``DeliveryQueue``'s ``max_bytes`` (the reader waits for room).
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Callable, Sequence

logger = logging.getLogger("target-aep.buffer")

# Serialized lines held by all streams together before the fullest group is drained early.
TOTAL_BUFFER_BYTES = 48 * 1024 * 1024
# Everyone's buffers are summed each time the streams together added this much: what they may hold beyond the budget
# before a check sees it.
BUDGET_CHECK_STEP = 64 * 1024


class Buffering(t.Protocol):
    """A sink as the shared buffer sees it."""

    stream_name: str
    buffered_bytes: int  # bytes of the serialized lines it holds
    buffer_group: str  # what it drains with: a dataset id in batch mode, else its stream name


class SharedBuffer:
    """Every sink of the run, and the drain of the fullest group when they together pass the budget."""

    def __init__(self, drain_together: Callable[[Sequence[t.Any]], None], batch_max_bytes_raised_by: int = 0) -> None:
        """``batch_max_bytes_raised_by``: how far the user raised ``batch_max_bytes`` above its default."""
        self._drain_together = drain_together  # drains these sinks in one handover (``TargetAEP.drain_together``)
        # Grown by as much as ``batch_max_bytes`` was raised: a backfill that raises it (docs/operations.md) gets a
        # dataset's batches that large, its memory as set; at the default, the budget holds one and a half batches.
        self.budget = TOTAL_BUFFER_BYTES + max(0, batch_max_bytes_raised_by)
        self.check_step = BUDGET_CHECK_STEP  # ``relieve`` is called each time the streams added this much
        # Bytes the streams added since the last check. Counted without a lock (a drain thread may complete records
        # too): a lost update only moves the next check by a record.
        self.grown = 0
        self.sinks: list[Buffering] = []

    def relieve(self) -> bool:
        """Past the budget, drain the group holding the most bytes (see the module docstring); True if it did.

        Read without a lock: a drain thread may be resetting a count, which at worst delays a drain by one check.
        """
        self.grown = 0
        held: dict[str, list[Buffering]] = {}
        group_bytes: dict[str, int] = {}
        total = 0
        for sink in self.sinks:
            size = sink.buffered_bytes
            if size:
                total += size
                held.setdefault(sink.buffer_group, []).append(sink)
                group_bytes[sink.buffer_group] = group_bytes.get(sink.buffer_group, 0) + size
        if total < self.budget:
            return False
        fullest = max(group_bytes, key=group_bytes.__getitem__)
        logger.info(
            "Streams hold %d bytes, over the shared buffer of %d: draining %s, %d bytes of %d stream(s)",
            total,
            self.budget,
            fullest,
            group_bytes[fullest],
            len(held[fullest]),
        )
        self._drain_together(held[fullest])  # in registration order: a replaced sink before its stream's new one
        return True
