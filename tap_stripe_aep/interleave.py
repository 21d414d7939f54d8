"""Writing several partitions by turns, batch by batch: the writer never waits while read history sits ready.

Why the tap drives the SDK's record loop itself: the SDK's ``Stream.sync(context)`` writes one partition (one
account of one stream) from start to end. When the history batch it needs next is not read yet (its oldest range
is a chain of pages), the SDK thread waits inside it, while other partitions' batches sit read and hold the
shared read budget (``read_budget.py``), so reading pauses too and request slots go unused (issue 10: 59 s of
such waits in a 76 s run at 100 requests/s). ``Stream.sync`` cannot switch; so the tap does, for each partition,
what ``Stream.sync`` does, with the SDK's own methods: the "Beginning sync" line, the signpost, the SCHEMA
message, then the SDK's record loop ``Stream._sync_records(context)`` (records, bookmarks, the partition's
finalized state and its last STATE line), which it advances itself, one batch at a time.

Where it may switch: only right after a batch's STATE line. ``StripeStream._emit_batch`` flags a batch's last
record; once the SDK has written it, the tap ends the batch (``StripeStream.end_batch``: the batch's window is
marked done and the STATE line follows), and only then chooses what to write next. So every STATE line covers
only records written before it, whichever partition writes it, and within a partition the records, their
order and the succession of its state are those of a run that writes it whole.

At most one partition per stream is open at a time (a stream keeps its partition's account, state and
``context`` in attributes): a stream's Connect accounts are written one after another, streams by turns.

A parent's partition that feeds child lists (``paired_read.py``: one read of its list for both) is opened with
them as one unit, once none of their streams has another partition open; a child has no read of its own, is
resumed only when its parent has handed it a batch (or ended), and such a batch is written before anything else:
right after the parent's batch it comes from.

Which one next (:meth:`PartitionWriter._choose`): an open partition whose next batch is read (the one whose read
has ended first, else the one with the most history ready); else a partition still to open, by
``sync_order.py``'s rules, if it has history ready or starts with no history read; else, while a partition is
open, wait a moment (its read is the one whose requests go first and that the budget never stops); with none
open, ``sync_order.py``'s fallback. A partition whose sync begins with no history read (an incremental one)
and a stream with a ``batch_config`` (BATCH messages) are written whole in one turn, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterator
from types import MappingProxyType
from typing import Any

from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tap_stripe_aep.sync_order import POLL_SECONDS, Partition, SyncOrder


class OpenPartition:
    """One partition being written: the SDK's record loop for it, advanced a batch at a time."""

    def __init__(self, partition: Partition, key: Hashable | None, *, last_of_stream: bool, feed: Any = None) -> None:
        self.partition = partition
        self.stream = partition.stream
        self.key = key  # its history read's key (``SyncOrder.key_of``), None if it begins without one
        self.last_of_stream = last_of_stream
        # A child list fed by its parent's partition (``paired_read.ChildFeed``): it has no read of its own.
        self.feed = feed
        self.feeds: list[Any] = []  # a parent's: the feeds of the children opened with it
        self._records: Iterator[Any] | None = None
        self._context: dict[str, Any] = {}
        self.started = False  # its first turn has begun (its history read, if any, is being written)

    def open(self) -> None:
        """What ``Stream.sync(context)`` does before its record loop (a stream's signpost is the tap's)."""
        stream = self.stream
        context = stream.preprocess_context(self.partition.context)
        stream.log(
            "Beginning sync of '%s' in %s mode with context keys: %s",
            stream.name,
            stream.replication_method.lower(),
            tuple(sorted(context.keys())),
        )
        stream.context = MappingProxyType(context)
        if signpost := stream.get_replication_key_signpost(context):
            stream._write_replication_key_signpost(context, signpost)
        if stream.selected:
            stream._write_schema_message()
        full_table = stream.replication_method == REPLICATION_FULL_TABLE
        if stream.selected and full_table and stream.emit_activate_version_messages:
            stream._stream_version = stream._initialized_at // 1000
            stream._write_activate_version_message(stream._stream_version)
        # After its last partition, a stream's own state is finalized (``StripeStream._finalize_state``).
        stream.finalizes_the_stream = self.last_of_stream
        stream.fed_by = self.feed
        stream.child_feeds = self.feeds
        self._context = context
        if stream.get_batch_config(stream.config):
            self._records = None  # BATCH messages: the SDK's own loop, whole, in the first turn
        else:
            self._records = stream._sync_records(context=context)

    def write_batch(self) -> bool:
        """Write records up to the end of a batch and its STATE line; False once the partition is written whole."""
        stream = self.stream
        self.started = True
        try:
            if self._records is None:
                stream._sync_batches(stream.get_batch_config(stream.config), context=self._context)
                return False
            for _ in self._records:
                if stream.batch_ending:
                    stream.end_batch()
                    return True
            return False
        except Exception:
            stream.log("An unhandled error occurred while syncing '%s'", stream.name, level=logging.ERROR)
            raise

    def ready(self, progress: Any) -> bool:
        """Whether its next turn starts without waiting for a read (before the first: whether its read, if one
        runs, has handed a batch back). A fed child: whether its parent has handed it a batch, or ended."""
        if self.feed is not None and not self.feed.ready():
            return False  # never resumed on an empty feed: it would wait on the writer itself
        if not self.started:
            key = self.key
            if key is None or not progress.reading(key):
                return True  # no history read, or one that ended: its first turn waits for no read
            return progress.ready_bytes(key) > 0
        return self.stream.next_batch_ready()

    def close(self) -> None:
        """Abandon the record loop (a failed run): its ``finally`` blocks release what the read holds."""
        if self._records is not None and hasattr(self._records, "close"):
            self._records.close()
        self.release()

    def release(self) -> None:
        """The partition is written (or abandoned): its stream no longer feeds or is fed."""
        for feed in self.feeds:
            feed.abandon()  # a parent closed: its children are never left open with nothing to come
        self.stream.fed_by = None
        self.stream.child_feeds = []


class PartitionWriter:
    """Writes the partitions of one ``SyncOrder`` by turns (see the module's docstring)."""

    def __init__(
        self,
        order: SyncOrder,
        progress: Any,
        opened: Callable[[Hashable], Any],
        closed: Callable[[Hashable], None],
        wait: Callable[[float], None] = time.sleep,
    ) -> None:
        self._order = order
        self._progress = progress  # ``sync_order.ReadsAhead``: ready bytes per history key, reads ended
        self._opened = opened  # the tap's ``history_opened``: the first open history's reads go first
        self._closed = closed  # the tap's ``history_closed`` (the stream calls it too; the second does nothing)
        self._wait = wait
        self.open: list[OpenPartition] = []  # in the order they were opened
        self._streams_started: set[str] = set()
        self.waited = 0.0  # seconds the writer waited with nothing read to write
        self.turns = 0

    def run(self) -> None:
        try:
            while self._order or self.open:
                turn = self._choose()
                if turn is None:
                    began = time.monotonic()
                    self._wait(POLL_SECONDS)
                    self.waited += time.monotonic() - began
                    continue
                self.turns += 1
                if not turn.write_batch():
                    self.open.remove(turn)
                    turn.release()
                    if turn.key is not None:
                        self._closed(turn.key)
                    if turn.last_of_stream:
                        turn.stream.finalize_state_progress_markers()  # as the SDK's ``sync_all`` after a stream
        finally:
            for partition in self.open:
                partition.close()
                if partition.key is not None:
                    self._closed(partition.key)
            self.open.clear()

    def open_keys(self) -> list[Hashable]:
        return [p.key for p in self.open if p.key is not None]

    def _choose(self) -> OpenPartition | None:
        fed = next((p for p in self.open if p.feed is not None and p.feed.pending), None)
        if fed is not None:
            return fed  # a child's batch is written right after its parent's (``paired_read.py``)
        ready = [p for p in self.open if p.ready(self._progress)]
        if ready:
            return max(ready, key=self._readiness)
        busy = {p.stream.name for p in self.open}
        partition = self._order.choose(
            lambda p: all(m.stream.name not in busy for m in p.members), fallback=not self.open
        )
        return None if partition is None else self._open(partition)

    def _readiness(self, partition: OpenPartition) -> tuple[bool, int]:
        key = partition.key
        if key is None:
            return (True, 0)
        return (self._progress.read_ended(key), self._progress.ready_bytes(key))

    def _open(self, partition: Partition) -> OpenPartition | None:
        """Open ``partition`` and the child lists it feeds (``paired_read.py``), as one unit."""
        key = self._order.key_of(partition)
        self._order.take(partition)
        opened = OpenPartition(partition, key, last_of_stream=self._order.is_last_of_its_stream(partition))
        children = [
            OpenPartition(
                child,
                None,  # no read of its own: its batches come from the parent's, as the parent's are written
                last_of_stream=self._order.is_last_of_its_stream(child),
                feed=child.stream.new_feed(child.account),
            )
            for child in partition.children
        ]
        opened.feeds = [child.feed for child in children]
        for member in (opened, *children):
            self._start_stream(member.stream)
            member.open()
        if key is not None:
            # Now, not at its first turn: a partition opened with nothing read yet (no other one could be
            # written) is written only once a batch of it is read, and its reads must go first meanwhile.
            self._opened(key)
        self.open += [opened, *children]
        return opened if opened.ready(self._progress) else None

    def _start_stream(self, stream: Any) -> None:
        if stream.name not in self._streams_started:
            # What ``Stream.sync()`` does once for all partitions: the signpost at the stream's level
            # (``StripeStream.get_replication_key_signpost`` gives none per partition), so the STATE lines
            # hold it where a catalog-order run puts it.
            self._streams_started.add(stream.name)
            if (signpost := stream.get_replication_key_signpost(None)) is not None:
                stream._write_replication_key_signpost(None, signpost)
