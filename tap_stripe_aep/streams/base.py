"""The shared Stripe stream: one state partition per account, history by ``created`` windows, then events.

How a partition (one account of one stream) is read, and what its state holds (Unix seconds):

- ``backfill_started_at`` / ``backfill_done_through``: a history read is in progress. Windows
  ``[history start, backfill_started_at]`` are read oldest first; after all objects of a window have been
  emitted, ``backfill_done_through`` moves to the window's end and a STATE message is written. A killed run
  resumes at ``backfill_done_through``.
- ``events_since``: history is complete; changes after this instant are read from ``/v1/events``.
- ``deletions_since``: set when a full re-read replaced the event catch-up (bookmark older than Stripe's 30
  days of events); deletions still visible in events are emitted after the re-read.

The SDK's own ``replication_key_value`` (``updated``) is kept too, for people and tools that read state, but the
keys above are what the tap resumes from.
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream, singerlib
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from tap_stripe_aep.backfill import created_of, read_history
from tap_stripe_aep.catalog_metadata import CatalogMetadata
from tap_stripe_aep.catalog_schema import CatalogSchema
from tap_stripe_aep.change_feed import EVENT_LAG_SECONDS, EVENT_RETENTION_SECONDS, Change, events_reach, latest_changes
from tap_stripe_aep.errors import StripeRequestError, TapStripeError
from tap_stripe_aep.record_conventions import TimestampConverter, finalize_record
from tap_stripe_aep.record_path import FastRecordPath
from tap_stripe_aep.schemas import load_schema
from tap_stripe_aep.stream_catalog import STRIPE_API_VERSION, UpdateSource, stream_named
from tap_stripe_aep.stream_catalog import StripeStream as CatalogEntry

if TYPE_CHECKING:
    from tap_stripe_aep.client import StripeClient
    from tap_stripe_aep.tap import TapStripeAEP

StripeObject = dict[str, Any]
DAY = 24 * 3600
SDK_SYNC_FAILED = "An unhandled error occurred while syncing"


class StripeStream(FastRecordPath, Stream):
    """A Stripe list read as one incremental stream, partitioned by account.

    ``FastRecordPath`` (``record_path.py``) skips the SDK's per-record steps that are identities for this tap.
    """

    primary_keys: ClassVar[list[str]] = ["id", "account_id"]  # type: ignore[misc]
    replication_key = "updated"
    # Records are JSON from Stripe and timestamps are converted by TimestampConverter: nothing left for the
    # SDK's per-record conformance to do, and it would cost most of the tap's CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # The tap resumes from its own window bookmarks; STATE is written after every finished window.
    STATE_MSG_FREQUENCY = 10**9
    # Emitted in rising ``updated`` within one run, but a full re-read starts again from old ``created`` values,
    # so the SDK must not reject a smaller value than the previous run's bookmark.
    is_sorted = True
    check_sorted = False

    def __init__(self, tap: TapStripeAEP) -> None:
        self.entry: CatalogEntry = stream_named(self.name)
        super().__init__(tap, schema=load_schema(self.name))
        self.primary_keys = [*self.entry.key_properties, "account_id"]
        self._tap_ref = tap
        # Built at the stream's first record (its plan compiled into Python: 52 streams cost 0.1 s, which
        # --discover and a run writing few streams need not pay); from the generated schema, as it was here.
        self._converter: TimestampConverter | None = None
        self._schema_sent = False

    # --- SDK hooks -------------------------------------------------------------------------------------

    @property
    def partitions(self) -> list[dict] | None:
        """One partition per account: the configured Connect accounts, else the key's own account."""
        return [{"account_id": account} for account in self.partition_accounts()]

    def partition_accounts(self) -> list[str]:
        """The accounts this stream reads: the platform's own for ``platform_only`` lists, else every account."""
        if self.entry.platform_only:
            return [self._tap_ref.platform_account_id]
        return self._tap_ref.account_ids()

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Read one account: history by windows until done, then changes since the bookmark.

        An account without the product the list belongs to (``product`` in the catalog) answers with an error
        about the account, not the request: the stream is skipped for that account with one warning naming the
        product, its state stays as it was (a later run reads it once the product is activated), and the
        other streams are read.
        """
        account = (context or {}).get("account_id") or self.partition_accounts()[0]
        state = self.get_context_state(context)
        self._account = account
        self._partition_state = state
        self.remember_partition_state(context, state)
        before = copy.deepcopy(state)
        try:
            yield from self._read_partition(state)
        except StripeRequestError as exc:
            product = self.entry.product
            # Stripe's answer about the account itself names no request parameter (one about our request does).
            if product is None or exc.param is not None or exc.status not in (400, 404):
                raise
            state.clear()
            state.update(before)
            self.logger.warning(
                "Stream '%s', account %s: skipped: the account does not have Stripe %s (Stripe answered: %s). "
                "The other streams are read; activate %s or deselect the stream.",
                self.name,
                account,
                product,
                exc,
                product,
            )

    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """The SDK's signpost for the whole stream, none per partition.

        The tap opens one partition at a time (``interleave.py``), where the SDK's own ``sync_all`` syncs a
        stream's partitions in one call, which writes the signpost once, at the stream's level;
        ``PartitionWriter`` writes it there, so the state is the same.
        """
        return None if context else super().get_replication_key_signpost(context)

    # Set by ``interleave.OpenPartition`` when the partition it opens is the stream's last of this sync.
    finalizes_the_stream = False

    def _finalize_state(self, state: dict | None = None) -> None:
        """The SDK's, and after the stream's last partition also the stream's own state (its signpost).

        ``Stream.sync()`` of all partitions finalizes the stream's state after the last partition's, before its
        last STATE line; ``sync(context)`` of one partition does not, so this does it at the same point.
        """
        super()._finalize_state(state)
        if self.finalizes_the_stream and state is not None and state is not self.stream_state:
            self.finalizes_the_stream = False
            super()._finalize_state(self.stream_state)

    @property
    def _pool(self) -> Executor:
        return self._tap_ref.pool

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """The SDK's stream log, except its "unhandled error" line for the tap's own errors.

        The SDK logs that line at ERROR before re-raising any error of a stream's sync. The tap's own errors (a
        rejected key, a missing permission, Stripe failing through every retry) are expected failures, which the
        command line reports in one clear line (``TapStripeAEP.invoke``); calling them unhandled first would
        bury that line, so for them it is DEBUG detail.
        """
        if (
            level >= logging.ERROR
            and message.startswith(SDK_SYNC_FAILED)
            and isinstance(sys.exc_info()[1], TapStripeError)
        ):
            level = logging.DEBUG
        super().log(message, *args, level=level, **kwargs)

    # --- the sync plan ---------------------------------------------------------------------------------

    def _read_partition(self, state: dict) -> Iterator[dict]:
        now = self._tap_ref.stripe_now(self._account)
        since = state.get("events_since")
        if "backfill_started_at" not in state and since is not None:
            source = self.entry.update_source
            reads_events = source in (UpdateSource.EVENTS, UpdateSource.PARENT_EVENTS)
            if reads_events and events_reach(since, now):
                recent = self._tap_ref.recently_emitted
                if recent is not None:  # continuous mode: what no read from here on can list again
                    recent.forget_before(self._partition_key, since - EVENT_LAG_SECONDS)
                seen = yield from self._emit_changes(since - EVENT_LAG_SECONDS, now + 1)
                seen |= yield from self._emit_created_since(since - EVENT_LAG_SECONDS, now + 1, seen)
                yield from self._emit_rereads(since - EVENT_LAG_SECONDS, now + 1, seen)
                state["events_since"] = now
                return
            if reads_events:
                self.logger.warning(
                    "Stream '%s', account %s: the bookmark (%s) is older than the 30 days of events Stripe "
                    "keeps, so changes since then cannot be read from events. Re-reading the whole stream "
                    "(every object, by created windows); deletions are recovered only from the events that "
                    "remain.",
                    self.name,
                    self._account,
                    _iso(since),
                )
                state["deletions_since"] = max(since, now - (30 * DAY - 3600))
                state["backfill_started_at"] = now
                state.pop("backfill_done_through", None)
            else:
                # No events for this object (or the event log itself): re-read from the bookmark by created.
                if not events_reach(since, now) and source == UpdateSource.APPEND_ONLY:
                    self.logger.warning(
                        "Stream '%s', account %s: the bookmark (%s) is older than the 30 days of events Stripe "
                        "keeps; events between it and %s are gone and cannot be read.",
                        self.name,
                        self._account,
                        _iso(since),
                        _iso(now - 30 * DAY),
                    )
                state["backfill_started_at"] = now
                state["backfill_done_through"] = self.reread_from(state, since - EVENT_LAG_SECONDS)
        if "backfill_started_at" not in state:
            state["backfill_started_at"] = now
        yield from self._backfill(state)
        deletions_since = state.pop("deletions_since", None)
        if deletions_since is not None:
            yield from self._emit_changes(deletions_since, now + 1, deletions_only=True)
        state["events_since"] = state.pop("backfill_started_at")
        state.pop("backfill_done_through", None)

    # Set by ``interleave.OpenPartition`` while a partition is open: a child list's feed when its parent's
    # partition reads for it, and a parent's feeds of the children it reads for (``paired_read.py``).
    fed_by: Any = None
    child_feeds: list[Any] = []  # replaced, never changed in place

    @property
    def can_feed_children(self) -> bool:
        """Whether this stream's history read can be shared with its child lists' partitions (``paired_read.py``):
        the base read, written a batch at a time (not a BATCH-message stream, written whole in one turn)."""
        return type(self).history_batches is StripeStream.history_batches and not self.get_batch_config(self.config)

    def _backfill(self, state: dict) -> Iterator[dict]:
        """Read ``created`` windows up to ``backfill_started_at``, resuming after ``backfill_done_through``."""
        if self.fed_by is not None:
            yield from self._write_fed(state, self.fed_by)
            return
        feeds = self.child_feeds
        try:
            yield from self._read_and_write(state)
        except BaseException as error:
            for feed in feeds:  # each child partition fails with its parent's read (or its abandonment)
                feed.end(error)
            raise
        for feed in feeds:
            feed.end()

    def _read_and_write(self, state: dict) -> Iterator[dict]:
        start, end = self._history_range(state, self._account)
        if start >= end:
            return
        account, prefetcher = self._account, self._tap_ref.prefetcher
        key = (self.name, account, start, end)
        # Read in a background thread even when nobody read ahead: the read's scheduling loop then keeps
        # requests going while this thread emits (in this thread it would only run between two windows).
        prefetcher.start(key, lambda: self.history_batches(account, start, end))
        batches = prefetcher.take(key)
        assert batches is not None, "a producer was just started for this key"
        self._history = batches
        # The partition the SDK thread waits on has its requests first and reads on its own allowance; when the
        # tap writes several partitions by turns (``interleave.py``), only one of them is that partition.
        share = self._tap_ref.history_opened(key)
        self._tap_ref.read_ahead()
        feeds = self.child_feeds
        try:
            for window_end, objects in batches:
                # The children's copies first: making the parent's records converts their timestamps in place.
                copies = [(feed, feed.copies(objects)) for feed in feeds]
                self._batch_to_end = (state, share, len(objects), window_end, copies)
                records = self._emit_window_objects(objects)
                # From here the batch and its copies are held by ``records`` and the batch's end only: released
                # once written, not when the next batch comes (the wait for it would hold them outside the
                # read budget, which gave them back once they were written).
                del objects, copies
                yield from self._emit_batch(records)
                self.end_batch()  # unless the tap ended it right after its last record (``interleave.py``)
        finally:
            self._history = None
            self._batch_to_end = None
            self._tap_ref.history_closed(key)

    def _write_fed(self, state: dict, feed: Any) -> Iterator[dict]:
        """A child list's history, batch by batch as its parent's partition writes the parent's (``paired_read.py``).

        No read, nothing in the read budget: each batch was built by the writer's own thread right after the
        parent's batch was written, and the writer resumes this partition only when one is there.
        """
        self._history = feed
        try:
            for window_end, fed in feed:
                self._batch_to_end = (state, NOTHING_HELD, 0, window_end, [])
                yield from self._emit_batch(self._emit_fed_batch(fed))  # empties ``fed`` as it goes
                self.end_batch()
        finally:
            self._history = None
            self._batch_to_end = None

    def _emit_fed_batch(self, fed: Any) -> Iterator[dict]:
        """Hook of child lists (``children.py``): the records of a batch fed by the parent's partition."""
        raise NotImplementedError(f"{self.name} is not a child list")

    # A batch (one window of history) whose records are written and whose STATE is not yet: set by ``_backfill``
    # (its state, read-budget share, objects, window end, and the copies of it its fed children take).
    _batch_to_end: tuple[dict, Any, int, int, list[tuple[Any, list[Any]]]] | None = None
    _history: Any = None  # the history read being written (``prefetch.Batches``)
    batch_ending = False  # the record just yielded is the last of its batch: the tap may end the batch now

    def _emit_batch(self, batch_records: Iterator[dict]) -> Iterator[dict]:
        """A batch's records, with :attr:`batch_ending` set as its last one is yielded.

        The SDK writes a record before it asks for the next one, so the tap, which drives the SDK's record loop
        (``interleave.py``), learns from the flag that the batch is written and ends it (:meth:`end_batch`: its
        STATE line) before deciding which partition to write next; resuming this generator first would wait
        here for the next batch. The next record is made before the current one is written: making a record
        changes no state a STATE line carries (``full_reread.py`` keeps its digests until the batch ends).
        """
        records = iter(batch_records)
        record = next(records, None)
        while record is not None:
            following = next(records, None)
            self.batch_ending = following is None
            yield record
            record = following
        self.batch_ending = False

    def end_batch(self) -> None:
        """After a batch's last record is written: its objects leave the read budget, its window is done, STATE.

        Called once per batch, by the tap right after the last record (``interleave.py``) or else by
        ``_backfill`` when it resumes; the second call does nothing.
        """
        pending, self._batch_to_end = self._batch_to_end, None
        self.batch_ending = False
        if pending is None:
            return
        state, share, objects, window_end, copies = pending
        share.give_back(objects)  # written: room for the reads ahead (``read_budget.py``)
        self._batch_written(state)
        state["backfill_done_through"] = window_end
        self._flush_state()
        for feed, parents in copies:  # the children's batch k, written next (``paired_read.py``)
            feed.put(window_end, parents)
        self._tap_ref.read_ahead()  # reads ahead that ended meanwhile are replaced

    def _batch_written(self, state: dict) -> None:
        """Hook: state a batch's records support once all of them are written (before its STATE line)."""

    def next_batch_ready(self) -> bool:
        """Whether resuming this partition's records now waits for no read (its next batch, or its end, is in)."""
        return self._history is None or self._history.ready()

    def planned_history(self, account: str) -> tuple[int, int] | None:
        """``(start, end)`` of the history read this partition's sync will begin with, if it begins with one.

        Used to read ahead (``tap_stripe_aep.prefetch``); must agree with :meth:`_read_partition`.
        """
        state = self.get_context_state({"account_id": account})
        if "backfill_started_at" not in state:
            if "events_since" in state:
                return None
            state = {"backfill_started_at": self._tap_ref.stripe_now(account)}
        start, end = self._history_range(state, account)
        return (start, end) if start < end else None

    def _history_range(self, state: dict, account: str) -> tuple[int, int]:
        end = int(state["backfill_started_at"]) + 1
        done = state.get("backfill_done_through")
        return (int(done) if done is not None else self._history_floor(account, end)), end

    def history_batches(self, account: str, start: int, end: int) -> Iterator[tuple[int, list[StripeObject]]]:
        """``(window end, objects oldest first)`` for each window of ``[start, end)``, in order.

        Only reads: safe to run ahead of the SDK in another thread.
        """
        path, params = self.history_list()
        key = (self.name, account, start, end)
        share = self._tap_ref.read_budget.reader(key)
        pool = self._tap_ref.pool
        if not self.entry_of_history().created_filter:
            while not share.emitted and not share.has_room_for_a_page():
                share.wait_for_writes(0.05)  # read ahead: only once the reads ahead have room
            whole = self._whole_list_between(path, params, account, start, end)
            share.weigh(whole)
            share.take(len(whole))  # held until emitted, like every history object
            share.hand_back(len(whole))
            yield end, whole
            return
        fetch = self._page_fetcher(path, params, account)
        # Ranges cut by what each page reveals (``backfill.read_history``), in this partition's lane of the
        # request pool: preferred while the SDK thread waits on this partition, behind it while read ahead.
        lane = pool.lane(key)
        batches = read_history(
            start,
            end,
            fetch,
            lane,
            max_in_flight=self._tap_ref.max_concurrency,
            window_seconds=self._tap_ref.backfill_window_seconds,
            budget=share,
        )
        yield from batches

    def _whole_list_between(
        self, path: str, params: dict[str, Any], account: str, start: int, end: int
    ) -> list[StripeObject]:
        """A list without a ``created`` filter: paged newest first, down to ``start``; oldest first."""
        found: list[StripeObject] = []
        for page in self.client.list_pages(
            path, params, account=account, stream=self.name, permission=self.entry.permission
        ):
            data = page.get("data") or []
            found.extend(obj for obj in data if start <= created_of(obj) < end)
            if data and created_of(data[-1]) < start:
                break
        return sorted(found, key=lambda o: (created_of(o), o["id"]))

    def _history_floor(self, account: str, end: int) -> int:
        """Where history begins: ``start_date``, else the account's creation; events only exist for 30 days."""
        floor = max(self._tap_ref.start_timestamp or 0, self._tap_ref.account_created(account))
        if self.entry.update_source == UpdateSource.APPEND_ONLY:
            floor = max(floor, end - EVENT_RETENTION_SECONDS - 3600)
        return floor

    def _emit_changes(self, since: int, until: int, *, deletions_only: bool = False) -> Generator[dict, None, set[str]]:
        """Records for the objects the events of ``[since, until)`` changed; returns their ids."""
        entry = self.change_entry()
        changes = latest_changes(
            self._events_fetcher(),
            self._pool,
            event_types=entry.event_types,
            deletion_types=entry.deletion_event_types,
            since=since,
            until=until,
            max_in_flight=self._tap_ref.max_concurrency,
        )
        if deletions_only:
            changes = [change for change in changes if change.deleted]
        changed_ids = {str(change.obj["id"]) for change in changes}
        recent = self._tap_ref.recently_emitted
        if recent is not None:  # continuous mode: a change the previous poll emitted is not emitted again
            key, now = self._partition_key, until - 1
            changes = [c for c in changes if recent.first_time(key, c.event_id, c.created, now=now)]
        self.logger.info(
            "Stream '%s', account %s: %d objects changed since %s", self.name, self._account, len(changes), _iso(since)
        )
        yield from self._emit_changed_objects(changes)
        return changed_ids

    def _emit_created_since(self, since: int, until: int, seen: set[str]) -> Generator[dict, None, set[str]]:
        """Objects created in ``[since, until)`` that no event announced; returns their ids.

        Some creations send no event (a checkout session stays ``open`` without one until it completes or
        expires), so a stream read from events also lists what was created since its bookmark: one request when
        nothing is new. Child streams list their parents this way and read the new parents' children.
        """
        path, params = self.history_list()
        fetch = self._page_fetcher(path, params, self._account)
        new: list[StripeObject] = []
        after: str | None = None
        while True:
            page = fetch(since, until, after)
            data = page.get("data") or []
            new.extend(obj for obj in data if str(obj["id"]) not in seen and created_of(obj) >= since)
            exhausted = not page.get("has_more") or not data
            if exhausted or created_of(data[-1]) < since:  # newest first: the rest is older
                break
            after = str(data[-1]["id"])
        if new:
            self.logger.info(
                "Stream '%s', account %s: %d objects created without an event since %s",
                self.name,
                self._account,
                len(new),
                _iso(since),
            )
        new.sort(key=lambda o: (created_of(o), o["id"]))
        found = {str(obj["id"]) for obj in new}
        recent = self._tap_ref.recently_emitted
        if recent is not None:
            key = self._partition_key
            new = [o for o in new if recent.first_time(key, f"created:{o['id']}", created_of(o), now=until - 1)]
        yield from self._emit_window_objects(new)
        return found

    def _emit_rereads(self, since: int, until: int, seen: set[str]) -> Iterator[dict]:
        """Objects of this stream that changed with another object (``reread_when_changed``), no event of theirs.

        Invoice items: Stripe sends no ``invoiceitem.updated`` when an item is attached to an invoice, so the
        items of every invoice created since the bookmark are listed again (``invoice=`` filter); only creation
        attaches items (``reread_event_types``), so unchanged items of other changed invoices are not re-sent.
        """
        if self.entry.reread_when_changed is None:
            return
        other_name, list_filter = self.entry.reread_when_changed
        other = stream_named(other_name)
        changes = latest_changes(
            self._events_fetcher(),
            self._pool,
            event_types=self.entry.reread_event_types or other.event_types,
            deletion_types=other.deletion_event_types,
            since=since,
            until=until,
            max_in_flight=self._tap_ref.max_concurrency,
        )
        parents = [str(c.obj["id"]) for c in changes if not c.deleted]
        by_parent = self._pool.map(self._list_filtered, [(list_filter, parent) for parent in parents])
        emitted = 0
        recent = self._tap_ref.recently_emitted
        for change, objects in zip([c for c in changes if not c.deleted], by_parent, strict=True):
            for obj in objects:
                if str(obj["id"]) in seen:
                    continue
                seen.add(str(obj["id"]))
                reread = f"{obj['id']}@{change.event_id}"
                repeated = recent is not None and not recent.first_time(
                    self._partition_key, reread, change.created, now=until - 1
                )
                if repeated:
                    continue
                emitted += 1
                yield self.make_record(obj, updated=change.created, is_deleted=False)
        self.logger.info(
            "Stream '%s', account %s: %d objects re-read because their %s changed",
            self.name,
            self._account,
            emitted,
            other.object_name,
        )

    def _list_filtered(self, job: tuple[str, str]) -> list[StripeObject]:
        list_filter, value = job
        objects: list[StripeObject] = []
        for page in self.client.list_pages(
            self.entry.list_path,
            {list_filter: value},
            account=self._account,
            stream=self.name,
            permission=self.entry.permission,
        ):
            objects.extend(page.get("data") or [])
        return objects

    # --- what subclasses change --------------------------------------------------------------------------

    def history_list(self) -> tuple[str, dict[str, Any]]:
        """The list path and fixed parameters used to read history by ``created`` windows."""
        params = {"status": "all"} if self.entry.list_status_all else {}
        return self.entry.list_path, params

    def reread_from(self, state: dict, bookmark: int) -> int:
        """Where a stream without events re-reads from on a later run (the bookmark, less a minute)."""
        return bookmark

    def change_entry(self) -> CatalogEntry:
        """The catalog entry whose events describe this stream's changes."""
        return self.entry

    def entry_of_history(self) -> CatalogEntry:
        """The catalog entry of the list history is read from (the parent's, for child lists)."""
        return self.entry

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        for obj in objects:
            yield self.make_record(obj, updated=None, is_deleted=False)

    def _emit_changed_objects(self, changes: list[Change]) -> Iterator[dict]:
        stale = [c for c in changes if not c.deleted and c.api_version and c.api_version != STRIPE_API_VERSION]
        fresh = dict(zip((c.obj["id"] for c in stale), self._pool.map(self._refetch, stale), strict=True))
        for change in changes:
            obj = fresh.get(change.obj["id"]) or change.obj
            yield self.make_record(obj, updated=change.created, is_deleted=change.deleted)

    # --- helpers -----------------------------------------------------------------------------------------

    @property
    def _partition_key(self) -> tuple[str, str]:
        return (self.name, self._account)

    @property
    def _singer_catalog_entry(self) -> singerlib.CatalogEntry:
        """The SDK's catalog entry (``--discover`` writes it), its schema kept as the dict (``catalog_schema``) and
        its metadata a ``CatalogMetadata`` (the stream's own entries, in a mapping that writes them cheaply)."""
        metadata = self.metadata
        return singerlib.CatalogEntry(
            tap_stream_id=self.tap_stream_id,
            stream=self.name,
            schema=CatalogSchema(self.schema),
            metadata=metadata if isinstance(metadata, CatalogMetadata) else CatalogMetadata(metadata),
            key_properties=self.primary_keys or [],
            replication_key=self.replication_key,
            replication_method=self.replication_method,
            is_view=None,
            database=None,
            table=None,
            row_count=None,
            stream_alias=None,
        )

    def _write_schema_message(self) -> None:
        """One SCHEMA per stream and process: in continuous mode each poll syncs the stream again, and its schema
        never changes while the process runs (a target keeps a stream's schema until a new one arrives)."""
        if self._schema_sent:
            return
        super()._write_schema_message()
        self._schema_sent = True

    @property
    def client(self) -> StripeClient:
        return self._tap_ref.stripe_client

    def make_record(self, obj: StripeObject, *, updated: int | None, is_deleted: bool) -> dict:
        """A Singer record from a Stripe object: RFC 3339 timestamps, ``updated``, ``is_deleted``, account."""
        converter = self._converter
        if converter is None:  # two threads building it at once build the same converter
            converter = self._converter = TimestampConverter.from_schema(self.schema)
        converter.convert(obj)
        return finalize_record(obj, updated_epoch=updated, is_deleted=is_deleted, account_id=self._account)

    def _refetch(self, change: Change) -> StripeObject | None:
        """The object in the pinned API version (an event renders it in the version current at its creation)."""
        try:
            return self.client.get(
                f"{self.entry.list_path}/{change.obj['id']}",
                account=self._account,
                stream=self.name,
                permission=self.entry.permission,
            )
        except StripeRequestError:
            return None  # gone since the event: the event's copy is the newest there is

    def _page_fetcher(self, path: str, params: dict[str, Any], account: str):  # type: ignore[no-untyped-def]
        client, name, permission = self.client, self.name, self.entry.permission

        created_filter = self.entry_of_history().created_filter

        def fetch(gte: int, lt: int, starting_after: str | None) -> dict[str, Any]:
            query = {**params, "limit": 100}
            if created_filter:
                query.update({"created[gte]": gte, "created[lt]": lt})
            if starting_after:
                query["starting_after"] = starting_after
            return client.get(path, query, account=account, stream=name, permission=permission)

        return fetch

    def _events_fetcher(self):  # type: ignore[no-untyped-def]
        client, account, name = self.client, self._account, self.name

        def fetch(types: list[str], gte: int, lt: int, starting_after: str | None) -> dict[str, Any]:
            query: list[tuple[str, Any]] = [("limit", 100), ("created[gte]", gte), ("created[lt]", lt)]
            query += [("types[]", t) for t in types]
            if starting_after:
                query.append(("starting_after", starting_after))
            return client.get("/v1/events", query, account=account, stream=name, permission="rak_event_read")

        return fetch

    def _flush_state(self) -> None:
        # Everything yielded so far has been written by the SDK before this generator resumed, so the STATE
        # line that follows can only promise records that are already out.
        self._write_state_message()


class _NothingHeld:
    """The read-budget share of a fed child's batch: nothing of it is held in the budget (``paired_read.py``)."""

    def give_back(self, objects: int) -> None:
        pass


NOTHING_HELD = _NothingHeld()


def _iso(epoch: int | float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


logging.getLogger("tap_stripe_aep").addHandler(logging.NullHandler())
