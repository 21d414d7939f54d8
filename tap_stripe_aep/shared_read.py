"""One read of a parent's list for the parent's stream and its child's (issue 10, session 7).

Why: a child list (``streams/children.py``: invoice lines, subscription items...) reads its history by reading
its parent's: ``invoice_line_items`` read the whole invoices list that ``invoices`` had just read, and
``subscription_items`` the subscriptions list: 9.7% of a backfill's requests at 100 requests/s
(docs/benchmarks.md, issue 10 session 7).

When: the parent's stream and the child's are both synced for the same account and would read the same history,
``[start, end)`` (both fresh, or both resumed from the same ``backfill_done_through``): their read keys differ only
in the stream's name. Otherwise (only one of them selected, one resumed mid-history and the other fresh, one
incremental) each reads as before.

How: the parent's read (``backfill.read_history``, in the parent's lane of the request pool and its share of the
read budget) is teed: each batch it hands back goes to the parent's partition unchanged, and a slim copy of it
(each parent cut to :meth:`ChildListStream.parent_fields`, its embedded list copied so that neither stream's
records share a dict with the other's) to the child's buffer, counted in the child's read-budget share from then
until the child's partition has written it. So the full parents are not pinned for the child, and what the
child's buffer holds is what the child's own read would have held. The child's partition takes its batches from
that buffer: the same window ends as the parent's, so each stream still writes its own STATE after its own
records, and a run interrupted anywhere resumes each partition from its own ``backfill_done_through`` (if the two
then differ, the next run reads them apart). The child's buffer is unbounded so the parent's read never waits on
the child's writer (the writer may be on the parent, or on another of the child stream's accounts); the read
budget, which counts it, is what bounds it. Children whose embedded list ``has_more`` are still listed by the
child's own requests when it writes them (``ChildListStream._children_of``).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from tap_stripe_aep.read_budget import ReaderShare

StripeObject = dict[str, Any]
Batch = tuple[int, list[StripeObject]]
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class ChildFeed:
    """One child partition's side of a shared read: slim batches, counted in its share until written."""

    def __init__(
        self,
        key: Hashable,
        slim: Callable[[StripeObject], StripeObject],
        share: Callable[[], ReaderShare],
        start_parent: Callable[[], None],
    ) -> None:
        self.key = key
        self._slim = slim
        self._share = share
        self._start_parent = start_parent
        self._batches: queue.SimpleQueue[Any] = queue.SimpleQueue()  # bounded by the read budget, which counts it

    def put(self, done_through: int, objects: list[StripeObject]) -> None:
        slim = [self._slim(parent) for parent in objects]
        share = self._share()
        share.weigh(slim)
        share.take(len(slim))  # held until the child's partition writes it (``StripeStream.end_batch``)
        share.hand_back(len(slim))
        self._batches.put((done_through, slim))

    def end(self, failure: BaseException | None = None) -> None:
        self._batches.put(_DONE if failure is None else _Failure(failure))

    def batches(self) -> Iterator[Batch]:
        """The child's batches, as the parent's read hands them over; starts that read if nobody has yet."""
        self._start_parent()
        while True:
            item = self._batches.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item


class SharedRead:
    """The parent's history read of ``parent_key``, feeding its children's partitions too (``children``)."""

    def __init__(self, parent_key: Hashable) -> None:
        self.parent_key = parent_key
        self.children: list[ChildFeed] = []

    def feed_of(self, key: Hashable) -> ChildFeed | None:
        return next((child for child in self.children if child.key == key), None)

    def parent_batches(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        """The parent's batches, unchanged; each one's slim copy is handed to every child first."""
        try:
            for done_through, objects in batches:
                for child in self.children:
                    child.put(done_through, objects)
                yield done_through, objects
        except GeneratorExit:  # the parent's read was dropped (the run is failing): the children cannot go on
            for child in self.children:
                child.end(RuntimeError(f"the shared read of {self.parent_key} was abandoned"))
            raise
        except BaseException as error:  # each child's partition fails with the parent's error
            for child in self.children:
                child.end(error)
            raise
        for child in self.children:
            child.end()


def json_copy(value: Any) -> Any:
    """A copy of decoded JSON sharing no dict or list with ``value`` (faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value
