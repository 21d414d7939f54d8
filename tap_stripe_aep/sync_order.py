"""Which partition the writer opens next: the one whose history is read, not the catalog's next one.

The SDK's ``Tap.sync_all`` syncs streams one after another in the catalog's order. The tap reads the history of
the next partitions ahead of it (``prefetch.py``) under one read budget (``read_budget.py``), and with a fixed
order the SDK thread waited on the partition it was on (its oldest range not read yet: 9 s for the first
stream's first batch at 25 requests/s, 44 s of waits in an 88 s run) while other partitions' pages sat read and
held the budget, so reading paused too and request slots went unused.

The order of streams in the output is no part of any contract (Singer orders messages within a stream only;
the target takes streams in any order), so the tap chooses at run time which partition (one account of one
stream) to open next: a partition whose history is read whole first, else the one holding the most history
ready to write, else the catalog's next. Partitions open at once are written by turns, a batch at a time,
switching only right after a STATE line (``interleave.py``): within a partition the same records come in the
same order, and its STATE lines still follow the records they cover (``streams/base.py``), so each partition's
state, and the final state, are what a catalog-order run writes.

:class:`SyncOrder` only decides; it reads the reads ahead through :class:`ReadProgress`, which the tap answers
from its prefetcher and read budget.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

POLL_SECONDS = 0.02  # how often the SDK thread looks again while nothing it could write is read yet


@dataclass(frozen=True, eq=False)
class Partition:
    """One account of one stream: the unit of state, opened once and written a batch at a time (``interleave.py``)."""

    stream: Any  # a StripeStream
    account: str
    # Child lists' partitions of the same account fed by this one's history read, opened and written with it as
    # one unit (``paired_read.py``); never in the order's list themselves.
    children: tuple[Partition, ...] = ()

    @property
    def context(self) -> dict[str, str]:
        return {"account_id": self.account}

    @property
    def members(self) -> tuple[Partition, ...]:
        """This partition and the children it feeds: the partitions opened when it is."""
        return (self, *self.children)


class ReadProgress(Protocol):
    """What the reads ahead have done, as the SDK thread sees it between two partitions."""

    def finished(self, key: Hashable) -> bool:
        """The read of ``key`` has ended: its whole history waits to be written."""

    def ready_bytes(self, key: Hashable) -> int:
        """Bytes of ``key``'s history read and handed back, waiting only for the writer."""

    def held_bytes(self, key: Hashable) -> int:
        """Bytes ``key``'s read holds or has reserved, ready or not."""

    def reading(self, key: Hashable) -> bool:
        """A reader of ``key`` runs (it may be paused by the budget)."""

    def may_request(self, keys: list[Hashable]) -> bool:
        """Whether one of the reads ahead of ``keys`` may request a page now (the budget is not spent for it)."""


class SyncOrder:
    """The partitions of one ``sync_all`` still to sync, and the choice of the next one.

    ``read_key`` gives a partition's read ahead key (None: its sync begins with no history read); it may cost a
    request the first time an account is seen (Stripe's clock, the account's creation), so it is asked only of
    the partitions within ``lookahead`` of the front, the ones the tap reads ahead, and remembered.
    """

    def __init__(
        self,
        partitions: list[Partition],
        read_key: Callable[[Partition], Hashable | None],
        progress: ReadProgress,
        lookahead: int,
    ) -> None:
        self._pending = list(partitions)  # the catalog's order: the order reads ahead are planned in
        self._read_key = read_key
        self._keys: dict[int, Hashable | None] = {}
        self._progress = progress
        self._lookahead = lookahead

    def __bool__(self) -> bool:
        return bool(self._pending)

    def key_of(self, partition: Partition) -> Hashable | None:
        if id(partition) not in self._keys:
            self._keys[id(partition)] = self._read_key(partition)
        return self._keys[id(partition)]

    def planned(self) -> list[tuple[Partition, Hashable]]:
        """The next ``lookahead`` partitions still to sync that begin with a history read, with their keys."""
        found: list[tuple[Partition, Hashable]] = []
        for partition in self._pending:
            if len(found) >= self._lookahead:
                break
            key = self.key_of(partition)
            if key is not None:
                found.append((partition, key))
        return found

    def is_last_of_its_stream(self, partition: Partition) -> bool:
        return not any(m.stream is partition.stream for p in self._pending for m in p.members)

    def take(self, partition: Partition) -> None:
        """``partition`` is being written now: no longer one to choose."""
        self._pending.remove(partition)
        self._keys.pop(id(partition), None)

    def choose(self, eligible: Callable[[Partition], bool], *, fallback: bool) -> Partition | None:
        """The partition to open now among the ``eligible`` ones, or None to wait (without requesting):

        - a partition whose read ahead has ended (its whole history is ready): written without any wait, and
          what it holds goes back to the budget;
        - else the one with the most history handed back, ready to write;
        - else one whose sync starts with no history read (an incremental one: it reads its changes itself);
        - without ``fallback`` (other partitions are being written: ``interleave.py``), nothing else: wait;
        - else, while reads ahead are running and may request, wait for one of them to hand something back:
          starting a partition with nothing read only moves the wait into it;
        - else (nothing read ahead, or the budget spent with nothing ready) the partition holding the most,
          or the catalog's next: once it is the one written its reads have their own allowance, so they go on.
        """
        progress = self._progress
        every = self.planned()
        planned = [(p, k) for p, k in every if eligible(p)]
        for partition, key in planned:
            if progress.finished(key):
                return partition
        ready = max(((progress.ready_bytes(k), -i, p) for i, (p, k) in enumerate(planned)), default=None)
        if ready is not None and ready[0] > 0:
            return ready[2]
        for partition in self._pending[: self._lookahead]:
            if self.key_of(partition) is None and eligible(partition):
                return partition
        if not fallback:
            return None
        running = [key for _, key in every if progress.reading(key)]
        if running and progress.may_request(running):
            return None
        held = max(((progress.held_bytes(k), -i, p) for i, (p, k) in enumerate(planned)), default=None)
        if held is not None and held[0] > 0:
            return held[2]
        return next((p for p in self._pending if eligible(p)), None)


class ReadsAhead:
    """:class:`ReadProgress` from the tap's prefetcher (which reads run) and read budget (what each holds)."""

    def __init__(self, prefetcher: Any, budget: Any) -> None:
        self._prefetcher = prefetcher
        self._budget = budget

    def finished(self, key: Hashable) -> bool:
        return self._prefetcher.finished(key)

    def read_ended(self, key: Hashable) -> bool:
        """``key``'s read has ended, whether or not its partition is being written (``interleave.py``)."""
        return self._prefetcher.read_ended(key)

    def reading(self, key: Hashable) -> bool:
        return self._prefetcher.reading(key)

    def ready_bytes(self, key: Hashable) -> int:
        share = self._budget.share_of(key)
        return 0 if share is None else share.ready_bytes

    def held_bytes(self, key: Hashable) -> int:
        share = self._budget.share_of(key)
        return 0 if share is None else share.bytes

    def may_request(self, keys: list[Hashable]) -> bool:
        for key in keys:
            share = self._budget.share_of(key)
            if share is None or share.has_room_for_a_page():
                return True
        return False
