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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tap_stripe_aep.backfill import created_of
from tap_stripe_aep.change_feed import Change
from tap_stripe_aep.stream_catalog import StripeStream as CatalogEntry
from tap_stripe_aep.stream_catalog import stream_named
from tap_stripe_aep.streams.base import StripeObject, StripeStream


class ChildListStream(StripeStream):
    """A stream whose objects are listed per parent object."""

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
        child_lists = self._pool.map(self._children_of, [(parent, deleted) for parent, _, deleted in parents])
        parent_field = self.entry.parent_field
        assert parent_field is not None
        removed_per_parent = [c.previous_child_ids for c in changes] if changes else [frozenset()] * len(parents)
        for (parent, updated, deleted), children, previous in zip(
            parents, child_lists, removed_per_parent, strict=True
        ):
            for child in children:
                if child.get(parent_field) is None:
                    child[parent_field] = parent["id"]
                yield self.make_record(child, updated=updated, is_deleted=deleted)
            for child_id in sorted(previous - {child["id"] for child in children}):
                removed = {"id": child_id, "object": self.entry.object_name, parent_field: parent["id"]}
                yield self.make_record(removed, updated=updated, is_deleted=True)

    def _children_of(self, job: tuple[StripeObject, bool]) -> list[StripeObject]:
        parent, deleted = job
        embedded = parent.get(self.entry.embedded_field) if self.entry.embedded_field else None
        complete = isinstance(embedded, dict) and not embedded.get("has_more")
        if isinstance(embedded, dict) and isinstance(embedded.get("data"), list) and (complete or deleted):
            return list(embedded["data"])
        if deleted:
            return []  # a deleted parent's children can no longer be listed
        if self.entry.parent_query_param:
            path, params = self.entry.list_path, {self.entry.parent_query_param: parent["id"]}
        else:
            path, params = self.entry.child_path(self.parent_entry.object_name, parent["id"]), {}
        children: list[StripeObject] = []
        for page in self.client.list_pages(
            path, params, account=self._account, stream=self.name, permission=self.entry.permission
        ):
            children.extend(page.get("data") or [])
        return children
