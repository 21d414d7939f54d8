"""One read of a parent's list for the parent's partition and its child lists' partitions, written as one unit.

Why: a child list (``streams/children.py``: invoice lines, subscription items, a customer's payment methods and
balance transactions...) reads its history by reading its parent's list. When the parent's stream is synced for
the same account, that is the same list read twice: 8-10% of a backfill's requests (docs/benchmarks.md, issue 10).

When (:func:`pair_partitions`): the child's and the parent's partitions of one account are both selected and
would read the same history: the same list with the same parameters, from the same point to the same end (both
fresh, or both resumed from the same ``backfill_done_through``; their read keys differ only in the stream's
name). Otherwise (only one selected, one resumed at another point, one incremental, a stream with BATCH
messages) each reads alone.

How: the parent's partition carries its children (``Partition.children``); the writer opens and closes them as
one unit (``interleave.py``), and only when none of their streams has another partition open. Only the parent
has a history read (its read key, its lane of the request pool, its share of the read budget). When the parent
writes its batch k, each parent with children is copied for each child, cut to the child's
:meth:`ChildListStream.parent_fields`, before its records are made (making a record converts timestamps in
place); right after the parent's batch k STATE line, the children of the parents whose embedded list is not
complete (``has_more``) are listed through the request pool, as the partition being written lists them, and the
batch is handed to the child's :class:`ChildFeed`; the writer writes that child batch next, before any other (it
may switch only after a STATE line, as before). A child batch with no record at all is not handed over (its
window end comes with the next one, or the end): a child's turn would otherwise run past it into a batch not yet
fed.

The copies are packed (:func:`pack_copy`: ``marshal`` bytes, a sixth of the dicts' memory, no string shared
with the parent's records) and each is unpacked and released as its children's records are written: they live
outside the read budget, from the parent's batch to the child's (issue 10, session 9: decoded copies of a batch
of invoices and the strings they kept alive added 33-48 MB to the tap's peak RSS at 25 requests/s).

The invariant that makes this deadlock-free by construction: **a fed child never waits.** Its partition is
chosen only when its feed holds a batch or has ended (:meth:`ChildFeed.ready`), and taking from an empty feed
raises instead of blocking; the feed is filled by the writer's own thread, while writing the parent. So nothing
of the child is in the read budget, no read waits on the child, and the shared read is the parent's own, which
makes progress exactly as any partition's read does (the partition being written is never stopped by the budget,
``read_budget.py``). Each stream keeps its own state and writes its own STATE lines, each after its own records:
a run interrupted between the parent's STATE and the child's resumes each from its own bookmark (then at
different points, so the next run reads them apart) and loses nothing.
"""

from __future__ import annotations

import marshal
import pickle
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import replace
from typing import Any

from tap_stripe_aep.sync_order import Partition

StripeObject = dict[str, Any]
# A parent copied for a child (:func:`pack_copy`), and whether its children must be listed (its embedded list is
# incomplete or absent) rather than taken from the copy.
ParentCopy = tuple[bytes, bool]
# One parent of a child batch: its packed copy, and the children listed for it (None: its embedded list's).
FedParent = tuple[bytes, list[StripeObject] | None]
# A child batch: (the window's end, its parents in order; each is popped, and released, as the child writes it).
ChildBatch = tuple[int, deque[FedParent]]


class ChildFeed:
    """A fed child partition's batches, handed over by its parent's partition as the writer writes the parent."""

    def __init__(
        self,
        cut: Callable[[StripeObject], StripeObject],
        embedded_count: Callable[[StripeObject], int | None],
        children_of: Callable[[list[StripeObject]], list[list[StripeObject]]],
    ) -> None:
        self._cut = cut  # a parent cut to what the child uses (sharing the parent's values: packed at once)
        self._embedded_count = embedded_count  # the children a complete embedded list holds; None: to be listed
        self._children_of = children_of  # the children of parents whose embedded list is not complete (requests)
        self._batches: deque[ChildBatch] = deque()
        self._ended = False
        self._failure: BaseException | None = None

    def copies(self, parents: list[StripeObject]) -> list[ParentCopy]:
        """Packed copies of the parents of a batch that have children (or must be listed to know), taken before
        the parent's records are made from it. A parent whose complete embedded list is empty is not kept."""
        copies: list[ParentCopy] = []
        for parent in parents:
            count = self._embedded_count(parent)
            if count != 0:
                copies.append((pack_copy(self._cut(parent)), count is None))
        return copies

    def put(self, window_end: int, copies: list[ParentCopy]) -> None:
        """The parent's batch ending at ``window_end`` is written: its children become the child's next batch."""
        to_list = [unpack_copy(packed) for packed, must_list in copies if must_list]
        listed = iter(self._children_of(to_list) if to_list else ())
        fed: deque[FedParent] = deque()
        for packed, must_list in copies:
            children = next(listed) if must_list else None
            if children is None or children:
                fed.append((packed, children))
        if fed:
            self._batches.append((window_end, fed))

    def end(self, failure: BaseException | None = None) -> None:
        """The parent's history is written (or failed with ``failure``, which the child raises too)."""
        self._ended = True
        self._failure = failure

    def abandon(self) -> None:
        """The parent's partition is closed: a feed it never ended fails the child rather than leave it waiting
        (or let it end with its history unread)."""
        if not self._ended:
            self.end(RuntimeError("the parent's partition ended without handing over its history"))

    @property
    def pending(self) -> bool:
        """A batch waits to be written: the writer writes it before anything else."""
        return bool(self._batches)

    def ready(self) -> bool:
        """Whether the child's partition can be resumed now: a batch is fed, or the feed has ended."""
        return bool(self._batches) or self._ended

    def __iter__(self) -> Iterator[ChildBatch]:
        return self

    def __next__(self) -> ChildBatch:
        if self._batches:
            return self._batches.popleft()
        if self._ended:
            if self._failure is not None:
                raise self._failure
            raise StopIteration
        # Never a wait: only the writer's thread fills the feed, so waiting here would wait forever.
        raise RuntimeError("a fed child partition was resumed before its parent handed it a batch")


class _Pickled(bytes):
    """A copy :func:`pack_copy` pickled: it holds a value ``marshal`` does not write."""


def pack_copy(value: StripeObject) -> bytes:
    """Decoded JSON as bytes that :func:`unpack_copy` turns back into an equal value, of the same types.

    ``marshal``: a decoded invoice's lines take about 1 KB of bytes against 3 KB of dicts and lists (6.5 KB once
    its strings, shared with the parent's record, are counted), packed and unpacked in 17 µs against 32 µs for
    a recursive copy. What it refuses (a float subclass: the stdlib decoder's ``NaN``) is pickled instead.
    """
    try:
        return marshal.dumps(value)
    except ValueError:
        return _Pickled(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def unpack_copy(packed: bytes) -> StripeObject:
    """The value :func:`pack_copy` packed (a new one each call, sharing nothing)."""
    if type(packed) is _Pickled:
        return pickle.loads(packed)  # type: ignore[no-any-return]
    return marshal.loads(packed)  # type: ignore[no-any-return]


def pair_partitions(
    partitions: list[Partition], read_key: Callable[[Partition], Hashable | None], log: Callable[..., None]
) -> list[Partition]:
    """``partitions`` with each child list's partition that can share its parent's read moved into the parent's.

    ``read_key`` must be asked of every partition in the catalog's order first (it creates the partition's
    state entry, and the order of those entries is the order of the streams in STATE lines).
    """
    keys = {id(p): read_key(p) for p in partitions}
    by_stream = {(p.stream.name, p.account): p for p in partitions}
    children: dict[int, list[Partition]] = {}
    fed: set[int] = set()
    for child in partitions:
        parent = _parent_to_share(child, by_stream, keys)
        if parent is None or id(parent) in fed:
            continue
        children.setdefault(id(parent), []).append(child)
        fed.add(id(child))
        log(
            "Streams '%s' and '%s', account %s: one read of the %s list for both, written together",
            parent.stream.name,
            child.stream.name,
            child.account,
            parent.stream.name,
        )
    paired: list[Partition] = []
    for partition in partitions:
        if id(partition) in fed:
            continue
        members = children.get(id(partition))
        paired.append(replace(partition, children=tuple(members)) if members else partition)
    return paired


def _parent_to_share(
    child: Partition, by_stream: dict[tuple[str, str], Partition], keys: dict[int, Hashable | None]
) -> Partition | None:
    stream = child.stream
    if not getattr(stream, "can_be_fed", False) or not stream.selected:
        return None
    parent = by_stream.get((stream.parent_entry.name, child.account))
    if parent is None or not parent.stream.selected or not parent.stream.can_feed_children:
        return None
    if getattr(parent.stream, "can_be_fed", False):
        return None  # a child list itself: its read is its own parent's list
    if parent.stream.history_list() != stream.history_list():
        return None  # e.g. tax ids read the customers with their tax ids expanded
    child_key, parent_key = keys[id(child)], keys[id(parent)]
    if child_key is None or parent_key is None or tuple(child_key)[1:] != tuple(parent_key)[1:]:
        return None  # incremental, or resumed at different points: each reads its own
    return parent
