"""One bound on the history the whole tap holds: objects read from Stripe and not yet emitted, all readers together.

Why one budget across readers, counted until *emission*: the partitions read ahead of the SDK (``prefetch.py``)
each bounded only what they held while reading (``read_history``'s ``max_held``); a batch handed to the
read-ahead buffer left that count, so a reader went on reading while its buffer filled, and a read that ended (a
list read whole) kept all of it buffered until the SDK reached its stream. At 100 requests/s the SDK's emission,
not the request budget, is the slower side, so nearly every selected stream was read ahead and held: peak RSS grew
with the history (1.1 GB at 415,000 objects, issue 10). Here an object counts from the request that reads it (a
page in flight reserves a full page) until the SDK thread has written its record, whatever buffer it waits in.

The budget is in bytes, not objects: a Stripe object's size varies tenfold by type (a coupon ~300 bytes of JSON,
an invoice with its lines ~3,400), so an object count bounded nothing when invoices were read ahead. Each reader
weighs its objects once, by the JSON size of its first page.

The reads ahead together stop requesting while the budget is spent, and resume as records are written. The
partition the SDK thread is emitting is not counted with them (reads ahead that filled the budget would otherwise
starve the one stream the SDK waits on: measured, 3,300 -> 1,400 objects/s at 100 requests/s) and is never
stopped (it would wait on itself). It has an allowance of its own, counted twice: while that much waits to be
written, it reads on only its two oldest ranges (the writer is busy; stopping it outright made writing wait on
reading: at 100 requests/s a batch takes seconds to read, 42 s of waits in a 68 s run against 10 s); while that
much is in ranges being read, only the ranges that block its next batch. Counting both together stalled it on
ranges read behind an unfinished oldest one (38 s of waits against 9). The budget, twice the allowance and
those front ranges is what the tap holds at most, whatever the history's size.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable
from typing import Any

PAGE_OBJECTS = 100  # what one page in flight reserves
UNWEIGHED_OBJECT_BYTES = 2000  # a reader's objects weigh this until its first page is weighed
WEIGHED_SAMPLE = 20  # objects of the first page whose JSON is measured (a few ms once per partition at most)


class ReadBudget:
    """Bytes (of JSON) read or reserved by pages in flight and not yet emitted; at most ``limit`` for reads ahead."""

    def __init__(self, limit: int, emitted_allowance: int | None = None) -> None:
        if limit < PAGE_OBJECTS * UNWEIGHED_OBJECT_BYTES:
            raise ValueError("a read budget below one page would never let a read ahead start")
        self.limit = limit
        self.emitted_allowance = emitted_allowance if emitted_allowance is not None else limit
        self._used = 0
        self._peak = 0
        self._changed = threading.Condition()  # re-entrant: a share updates its count and the total under it
        self._shares: dict[Hashable, ReaderShare] = {}
        self._emitted: ReaderShare | None = None
        self._rank: dict[Hashable, int] = {}  # reads ahead by how soon the SDK syncs them (0: next)

    def reader(self, key: Hashable) -> ReaderShare:
        """The share of the reader of ``key`` (one partition's history read): the same for its producer and consumer."""
        with self._changed:
            share = self._shares.get(key)
            if share is None:
                share = self._shares[key] = ReaderShare(self, key)
            return share

    def share_of(self, key: Hashable) -> ReaderShare | None:
        """The share of ``key``'s reader, if it has one (unlike :meth:`reader`, creates none)."""
        with self._changed:
            return self._shares.get(key)

    def plan(self, keys: list[Hashable]) -> None:
        """The partitions read ahead, in the order the SDK will sync them.

        The one the SDK reaches first may fill the whole budget, the k-th of n only (n - k) / n of it: a large
        stream read ahead far in advance took the budget first-come and left the partitions the SDK reached next
        unread (measured: the SDK thread then waited 41 s of a 64 s run at 100 requests/s, for streams read from
        scratch at 4 requests in flight).
        """
        with self._changed:
            self._rank = {key: rank for rank, key in enumerate(keys)}
            self._changed.notify_all()

    def emitting(self, key: Hashable) -> ReaderShare:
        """The SDK thread emits partition ``key`` now: its share no longer counts against the reads ahead."""
        with self._changed:
            self._emitted = share = self.reader(key)
            self._changed.notify_all()
            return share

    def forget(self, key: Hashable) -> None:
        """The partition's history is emitted; anything it still counts (an aborted read) stops counting."""
        with self._changed:
            share = self._shares.pop(key, None)
            if share is not None:
                share.take(-share.objects)
                if self._emitted is share:
                    self._emitted = None

    def _add(self, nbytes: int) -> None:
        with self._changed:
            self._used += nbytes
            self._peak = max(self._peak, self._used)
            if nbytes < 0:
                self._changed.notify_all()

    def has_room_for(self, key: Hashable, nbytes: int) -> bool:
        """Whether the read ahead of ``key`` may reserve ``nbytes`` more (the partition being emitted not counted)."""
        emitted = self._emitted.bytes if self._emitted is not None else 0
        ranks = len(self._rank) + 1
        limit = self.limit * (ranks - self._rank.get(key, ranks - 1)) // ranks
        return self._used - emitted + nbytes <= limit

    def __repr__(self) -> str:
        return (
            f"ReadBudget({self._used / 2**20:.1f} of {self.limit / 2**20:.1f} MB held, peak {self._peak / 2**20:.1f},"
            f" {len(self._shares)} readers)"
        )


class ReaderShare:
    """One reader's part of the budget, counted in objects, weighed in bytes by the reader's first page."""

    def __init__(self, budget: ReadBudget, key: Hashable) -> None:
        self._budget = budget
        self._key = key
        self.objects = 0
        self.handed_back = 0  # of ``objects``: in batches handed back, waiting to be written
        self.object_bytes = UNWEIGHED_OBJECT_BYTES
        self._weighed = False

    def weigh(self, page_objects: list[dict[str, Any]]) -> None:
        """Set the weight of an object from the first page that has any (later pages change nothing)."""
        if self._weighed or not page_objects:
            return
        sample = page_objects[:WEIGHED_SAMPLE]
        weight = max(1, len(json.dumps(sample, separators=(",", ":"))) // len(sample))
        with self._budget._changed:  # the SDK thread gives back while the reader thread takes
            self._weighed = True
            self._budget._add(self.objects * (weight - self.object_bytes))
            self.object_bytes = weight

    @property
    def emitted(self) -> bool:
        """Whether the SDK thread emits this reader's partition now (``ReadBudget.emitting``)."""
        return self._budget._emitted is self

    @property
    def bytes(self) -> int:
        return self.objects * self.object_bytes

    @property
    def ready_bytes(self) -> int:
        """Bytes handed back, waiting only for the SDK thread to write them."""
        return self.handed_back * self.object_bytes

    def has_room_for_a_page(self) -> bool:
        """For a read ahead: whether the reads ahead together may reserve one more page."""
        return self._budget.has_room_for(self._key, PAGE_OBJECTS * self.object_bytes)

    def may_finish_its_front(self) -> bool:
        """For a read ahead over the budget: whether it may still read the range that blocks its next batch.

        Any read ahead with nothing handed back: at 100 requests/s the reads ahead filled the budget with ranges
        read behind an unfinished oldest one, none of them could hand anything back, and reading and writing both
        waited (issue 10, session 5). Session 5 let only the two reads the writer takes next finish their front;
        the others stayed stuck behind theirs (session 6: charges held 24 MB, nothing handed back, for 10 s while
        the pool had 15-20 idle slots). Since a front range is now cut into parts of about two pages as soon as a
        page shows more than that left (``backfill._absorb``), what this lets a read hold beyond the budget is its
        front range, once: with something handed back it waits for the writer like any read ahead.
        """
        return not self.handed_back

    def writer_is_busy(self) -> bool:
        """For the partition being emitted: whether its allowance is handed back, waiting to be written."""
        return self.ready_bytes >= self._budget.emitted_allowance

    def reading_is_over(self, objects: int) -> bool:
        """For the partition being emitted: whether ``objects`` read, not yet handed back, pass its allowance."""
        return objects * self.object_bytes >= self._budget.emitted_allowance

    def hand_back(self, objects: int) -> None:
        """``objects`` (counted already) are handed back: they now wait for the SDK thread to write them."""
        with self._budget._changed:
            self.handed_back += objects

    def wait_for_writes(self, timeout: float) -> None:
        """Return when records have been written (or a read came back short), or after ``timeout``."""
        with self._budget._changed:
            self._budget._changed.wait(timeout)

    def take(self, objects: int) -> None:
        """Count ``objects`` more as held (negative: fewer, e.g. a page that came back short of its reservation)."""
        with self._budget._changed:
            self.objects += objects
            self._budget._add(objects * self.object_bytes)

    def give_back(self, objects: int) -> None:
        """``objects`` were written: room for reads ahead to go on."""
        with self._budget._changed:
            self.handed_back -= objects
            self.take(-objects)
