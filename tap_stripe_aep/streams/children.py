"""Child lists: read through their parent, re-read when the parent changes.

Invoice lines, subscription items, transfer reversals, application fee refunds, the persons and external accounts
of connected accounts, the balance transactions of a payout: what the catalog row says (``parent``,
``list_path`` with ``{parent_id}`` or ``parent_query_param``, ``embedded_field``, ``parent_key``) is all a child
stream needs.

A child list has no events and no ``created`` filter of its own. History is read by reading the parent's
history (the same concurrent ``created`` windows) and taking each parent's children; later runs read the
parent's events and re-read the children of every parent that changed. The children a parent embeds
(``invoice.lines``, ``subscription.items``) are used when the embedded list is complete, so most parents cost
no request of their own.

Both streams stay top-level SDK streams rather than ``parent_stream_type`` children: the SDK syncs a child once
per parent record, one request after another, which at 200 ms a request would cap a backfill near 5 parents/s.

A parent read from a list page is cut down to what the child uses as soon as the page is decoded
(:meth:`ChildListStream.parent_fields`): the history read holds, and the read budget counts, the children, not
their parents (issue 10: the invoices behind invoice lines, about 3.4 KB of JSON each, held 44-58 MB alone and
stopped every other read).

When the parent's stream is synced for the same account and would read the same history, the child's partition
reads nothing: the parent's partition feeds it each batch as it writes its own (``paired_read.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from tap_stripe_aep.backfill import created_of
from tap_stripe_aep.change_feed import Change
from tap_stripe_aep.paired_read import ChildFeed, FedParent, unpack_copy
from tap_stripe_aep.stream_catalog import StripeStream as CatalogEntry
from tap_stripe_aep.stream_catalog import stream_named
from tap_stripe_aep.streams.base import StripeObject, StripeStream


class ChildListStream(StripeStream):
    """A stream whose objects are listed per parent object."""

    # Parent fields this stream's records or requests use besides the parent's id, ``created`` (``date``) and
    # embedded list: a subclass that reads another one (``currency``, ``latest_attempt``) names it here.
    parent_fields_used: ClassVar[tuple[str, ...]] = ()

    def parent_fields(self) -> frozenset[str]:
        """What is kept of a parent read from a list page (:meth:`_page_fetcher`).

        ``id`` names the parent on each child and lists its children; ``created`` (``date`` for objects without
        it) places it in the history's ranges and is its children's ``updated``; the embedded list is the
        children themselves, with the ``has_more`` that says whether they must be listed.
        """
        embedded = (self.entry.embedded_field,) if self.entry.embedded_field else ()
        return frozenset(("id", "created", "date", *embedded, *self.parent_fields_used))

    @property
    def can_be_fed(self) -> bool:
        """Whether this partition can take its history from its parent's partition (not written whole, in BATCH
        messages, in one turn)."""
        return not self.get_batch_config(self.config)

    def new_feed(self, account: str) -> ChildFeed:
        """The feed of this stream's partition of ``account`` from its parent's partition (``paired_read.py``)."""
        kept = self.parent_fields()

        def cut(parent: StripeObject) -> StripeObject:
            return {k: parent[k] for k in kept if k in parent}

        def children_of(parents: list[StripeObject]) -> list[list[StripeObject]]:
            return list(self._pool.map(self._children_of, [(parent, False, account) for parent in parents]))

        return ChildFeed(cut, self.embedded_count, children_of)

    def embedded_count(self, parent: StripeObject) -> int | None:
        """How many children a parent's embedded list holds when it is complete; None when they must be listed.

        A paired read counts them before the parent's record is made (``paired_read.py``); :meth:`_children_of`
        returns that same list for such a parent (both read it through :meth:`_embedded_children`).
        """
        children, complete = self._embedded_children(parent)
        return len(children) if children is not None and complete else None

    def _embedded_children(self, parent: StripeObject) -> tuple[list[StripeObject] | None, bool]:
        """The children listed in the parent's embedded list (None: it has none), and whether that list is
        complete (no ``has_more``)."""
        embedded = parent.get(self.entry.embedded_field) if self.entry.embedded_field else None
        if not isinstance(embedded, dict) or not isinstance(embedded.get("data"), list):
            return None, False
        return embedded["data"], not embedded.get("has_more")

    def _emit_fed_batch(self, fed: deque[FedParent]) -> Iterator[dict]:
        # Each parent's copy is unpacked as its children are written and released with them, not at the batch's
        # end: the copies live outside the read budget (``paired_read.py``).
        while fed:
            packed, listed = fed.popleft()
            parent = unpack_copy(packed)
            children = listed if listed is not None else self._children_of((parent, False, self._account))
            yield from self._parent_records(parent, created_of(parent), False, children)

    def _page_fetcher(self, path: str, params: dict[str, Any], account: str) -> Callable[..., dict[str, Any]]:
        """The parents' list pages, each parent cut to :meth:`parent_fields` as soon as its page is decoded.

        Why here: the history read keeps a page's objects until the batch is written, and weighs them for the
        read budget (``read_budget.py``) by the JSON of its first page; slimmed at the fetch, both count what
        the child writes. The page's own ``has_more`` is kept, so the read is cut into ranges as before.
        """
        fetch = super()._page_fetcher(path, params, account)
        kept = self.parent_fields()

        def fetch_parents(gte: int, lt: int, starting_after: str | None) -> dict[str, Any]:
            page = fetch(gte, lt, starting_after)
            data = page.get("data")
            if data:
                page["data"] = [{k: parent[k] for k in kept if k in parent} for parent in data]
            return page

        return fetch_parents

    @property
    def parent_entry(self) -> CatalogEntry:
        assert self.entry.parent is not None, f"{self.name} has no parent in the stream catalog"
        return stream_named(self.entry.parent)

    def history_list(self) -> tuple[str, dict[str, Any]]:
        parent = self.parent_entry
        return parent.list_path, ({"status": "all"} if parent.list_status_all else {})

    def change_entry(self) -> CatalogEntry:
        return self.parent_entry

    def entry_of_history(self) -> CatalogEntry:
        return self.parent_entry

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        parents = [(parent, created_of(parent), False) for parent in objects]
        yield from self._emit_children(parents)

    def _emit_changed_objects(self, changes: list[Change]) -> Iterator[dict]:
        yield from self._emit_children([(c.obj, c.created, c.deleted) for c in changes], changes)

    def _emit_children(
        self, parents: list[tuple[StripeObject, int, bool]], changes: list[Change] | None = None
    ) -> Iterator[dict]:
        """Children of each parent, in the parents' order; missing children are fetched concurrently.

        With ``changes``, a child an event listed among the parent's previous children but which the parent no
        longer has was removed (Stripe sends no event of its own for that): it is emitted with
        ``is_deleted`` true, so a removed subscription item or invoice line does not live on downstream.
        """
        jobs = [(parent, deleted, self._account) for parent, _, deleted in parents]
        child_lists = self._pool.map(self._children_of, jobs)
        removed_per_parent = [c.previous_child_ids for c in changes] if changes else [frozenset()] * len(parents)
        for (parent, updated, deleted), children, previous in zip(
            parents, child_lists, removed_per_parent, strict=True
        ):
            yield from self._parent_records(parent, updated, deleted, children, previous)

    def _parent_records(
        self,
        parent: StripeObject,
        updated: int,
        deleted: bool,
        children: list[StripeObject],
        previous: frozenset[str] = frozenset(),
    ) -> Iterator[dict]:
        """The records of one parent's children, then of the children ``previous`` listed that it no longer has."""
        parent_field = self.entry.parent_field
        assert parent_field is not None
        for child in children:
            if child.get(parent_field) is None:
                child[parent_field] = parent["id"]
            yield self.make_record(child, updated=updated, is_deleted=deleted)
        for child_id in sorted(previous - {child["id"] for child in children}):
            removed = {"id": child_id, "object": self.entry.object_name, parent_field: parent["id"]}
            yield self.make_record(removed, updated=updated, is_deleted=True)

    def _children_of(self, job: tuple[StripeObject, bool, str]) -> list[StripeObject]:
        parent, deleted, account = job
        embedded, complete = self._embedded_children(parent)
        if embedded is not None and (complete or deleted):
            return list(embedded)
        if deleted:
            return []  # a deleted parent's children can no longer be listed
        if self.entry.parent_query_param:
            path, params = self.entry.list_path, {self.entry.parent_query_param: parent["id"]}
        else:
            path, params = self.entry.child_path(self.parent_entry.object_name, parent["id"]), {}
        children: list[StripeObject] = []
        for page in self.client.list_pages(
            path, params, account=account, stream=self.name, permission=self.entry.permission
        ):
            children.extend(page.get("data") or [])
        return children
