"""tap-stripe-aep: the settings (one config schema) and the list of streams."""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from decimal import Decimal
from functools import cached_property
from types import FrameType
from typing import Any

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import Catalog

from stripe_aep_shared.malloc_policy import bound_malloc_arenas, keep_large_buffers_on_mmap
from stripe_aep_shared.number_settings import numbers_from_text
from tap_stripe_aep.catalog_schema import catalog_from_dict
from tap_stripe_aep.client import StripeClient
from tap_stripe_aep.continuous import Phase, PollClock, RecentlyEmitted
from tap_stripe_aep.errors import (
    ConfigError,
    ConnectAccountsError,
    StripePermissionError,
    StripeRequestError,
    TapStripeError,
)
from tap_stripe_aep.gc_policy import fewer_collections
from tap_stripe_aep.interleave import PartitionWriter
from tap_stripe_aep.interruption import SignalGate, exit_code_for, signal_name
from tap_stripe_aep.paired_read import pair_partitions
from tap_stripe_aep.prefetch import Prefetcher
from tap_stripe_aep.rate_limit import shared_bucket
from tap_stripe_aep.read_budget import ReadBudget, ReaderShare
from tap_stripe_aep.request_pool import RequestPool
from tap_stripe_aep.stream_catalog import STRIPE_API_VERSION
from tap_stripe_aep.streams import (
    billing,
    billing_documents,
    catalog,
    checkout,
    connect,
    customer_children,
    events,
    files,
    issuing,
    payments,
    radar,
)
from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.sync_order import Partition, ReadsAhead, SyncOrder
from tap_stripe_aep.writer import FastSingerWriter

KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9_]+")
# An account id, or a path of them (acct_org/acct_child); a space or newline would break the header.
STRIPE_CONTEXT = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*")
ALL_ACCOUNTS = "*"  # account_ids ["*"]: every connected account of the platform
# After the prefix a key is letters, digits and underscores. Anything else (a pasted newline or space) would
# make ``requests`` refuse the Authorization header with an exception that quotes the whole key.
KEY_BODY = re.compile(r"[A-Za-z0-9_]+")
TEST_MODE_RATE = 25.0
LIVE_MODE_RATE = 90.0
MIN_CONCURRENCY = 8
ASSUMED_REQUEST_SECONDS = 0.4  # what a Stripe list page of 100 may take; the pool is sized to keep up
# Partitions read ahead of the one being emitted: at least this many, and one more per this many requests/s.
# A partition's read is chains of dependent round trips (full pages by cursor, each sub-range ending in one short
# page) that keep ~10 requests/s busy at 200 ms a request; the request pool serves the partition being emitted
# first (``request_pool.py``), so partitions read ahead only use what it leaves.
MIN_PREFETCH_PARTITIONS = 4
# History read and not yet written, in bytes of Stripe's JSON (``read_budget.py``; decoded into Python about 3-4
# times that): the reads ahead together (24,000 charges, 5 s of reading at 100 requests/s), and the partition the
# writer waits on (its front ranges, read in parallel, wait for the oldest one). Since partitions are written by
# turns (``interleave.py``), what the reads ahead hold is written as soon as it is handed back, so a larger budget
# pauses reading less without holding more for long: at 100 requests/s, 24,000 customers, 40 + 32 MB measured
# 7,604 / 6,252 objects/s (even / growing) and 404-407 MB, against 6,815 / 5,386 and 358-381 MB with 20 + 16 MB,
# and 7,648 and 574 MB with 80 + 64 MB (docs/benchmarks.md, issue 10 session 5).
READ_AHEAD_BYTES = 40 * 2**20
EMITTED_PARTITION_BYTES = 32 * 2**20
REQUESTS_PER_SECOND_PER_PARTITION = 10.0
STRIPE_EPOCH = 1293840000  # 2011-01-01: no Stripe object is older

STREAM_TYPES: list[type[StripeStream]] = [
    *billing.STREAM_TYPES,
    *payments.STREAM_TYPES,
    *catalog.STREAM_TYPES,
    *events.STREAM_TYPES,
    # --- issue 9: H7
    *connect.STREAM_TYPES,
    # --- issue 9: H8 (billing and customers)
    *customer_children.STREAM_TYPES,
    *billing_documents.STREAM_TYPES,
    # --- issue 9: H9
    *checkout.STREAM_TYPES,
    *files.STREAM_TYPES,
    *radar.STREAM_TYPES,
    *issuing.STREAM_TYPES,
]


# Two, not one: one arena shared by 10-20 request threads measured about the same peak RSS for 5-9% more CPU.
MALLOC_ARENAS = 2


class TapStripeAEP(Tap):
    """Singer tap for Stripe: every change, read fast under Stripe's rate limit."""

    name = "tap-stripe-aep"
    message_writer_class = FastSingerWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="Stripe secret key (sk_...) or restricted key (rk_...); the AEP Stripe source calls it "
            "'access token'.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Only objects created at or after this RFC 3339 date-time. Default: all history.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://api.stripe.com",
            description="Base address of the Stripe API (an emulator in tests).",
        ),
        th.Property(
            "account_ids",
            th.ArrayType(th.StringType),
            description="Connect accounts (acct_...) to read with the Stripe-Account header, each its own state "
            'partition; ["*"]: every connected account of the platform, listed from /v1/accounts at the start '
            "of each run (new accounts are picked up on the next run, or the next poll in continuous mode). "
            "Default: the key's own account.",
        ),
        th.Property(
            "stripe_context",
            th.StringType,
            description="Sent as the Stripe-Context header on every request (Stripe Organizations: the account "
            "of the organization the key reads, e.g. acct_...). Default: none.",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            description="Client-side rate limit shared by all threads. Default: 25 for test-mode keys, 90 for "
            "live keys (Stripe allows 25 and 100).",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            description="Requests in flight at once (thread pool size). Default: enough to keep "
            "max_requests_per_second busy at up to 400 ms a request (10 at 25 requests/s, 36 at 90), at least 8.",
        ),
        th.Property(
            "backfill_window_days",
            th.NumberType,
            description="Width of the created windows a history read is cut into: the unit of resumption after an "
            "interrupted run (and of memory: a window's objects are sorted before they are emitted). Default: "
            "cut by what each page reveals (a range ends on its first short page; a full page splits the rest by its "
            "own density), so sparse years cost one request and dense days are split.",
        ),
        th.Property(
            "poll_interval_seconds",
            th.NumberType,
            description="Continuous mode: after history and the catch-up, read /v1/events again every this many "
            "seconds and emit the changes and a STATE after each poll, until SIGTERM or SIGINT (then the poll in "
            "hand finishes, a last STATE is written and the tap exits 0). Default: none, one run then exit.",
        ),
    ).to_dict()

    # Set by the command line (``invoke``): the process is the tap's own, so a stop signal may end it. A tap
    # built in another program (the SDK's test suite, an embedding) keeps the SDK's handling.
    _owns_process = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._stripe_now: dict[str, int] = {}
        self._accounts: dict[str, dict[str, Any]] = {}
        # Before super().__init__(), which installs the signal handlers that use it.
        self.signal_gate = SignalGate(self.stop_on_signal)
        self._sync_started = False
        self._stopping = False
        self._phase = Phase.CATCH_UP
        self._stop_after_poll: int | None = None
        self._poll_clock: PollClock | None = None
        self._sync_order: SyncOrder | None = None  # the partitions of the sync_all in progress
        self._writer: PartitionWriter | None = None
        self._open_histories: list[Hashable] = []  # histories being written, in the order they were opened
        self._waited_on: Hashable | None = None  # the first of them: the partition the writer waits on
        # Continuous mode only: changes emitted lately, so that the next poll's overlap does not repeat them.
        self.recently_emitted: RecentlyEmitted | None = None
        input_catalog = kwargs.get("catalog")
        # A catalog given as a dict: the SDK's Catalog.from_dict, without building every schema node.
        if isinstance(input_catalog, Mapping) and not isinstance(input_catalog, Catalog):
            kwargs["catalog"] = catalog_from_dict(input_catalog)
        super().__init__(*args, **kwargs)
        if isinstance(self.message_writer, FastSingerWriter):
            self.message_writer.gate = self.signal_gate

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Run the command line; an expected failure ends with one clear line and exit 1, no traceback.

        Expected failures are the tap's own errors (a rejected key, a missing permission, Stripe unreachable or
        failing through every retry): their message says what to change. Anything else is a bug and keeps its
        traceback (the SDK's excepthook logs it). The traceback of an expected failure is logged at DEBUG.
        """
        cls._owns_process = True
        # Here, not at import or in sync_all: the command line owns the process (an embedding keeps its own
        # malloc), and no request thread has started yet (arenas already created would stay). Pages freed by
        # one request thread go back to a heap the others use, large ones to the system
        # (`stripe_aep_shared.malloc_policy`; docs/benchmarks.md, issue 10 session 4: tap's peak RSS).
        keep_large_buffers_on_mmap()
        bound_malloc_arenas(MALLOC_ARENAS)
        try:
            # The set-up too (the catalog's 52 schemas and 9,206 metadata entries, --discover's output): with the
            # default thresholds, collections took 40% of the set-up's CPU, walking objects none of which is in
            # a cycle (`gc_policy`; sync_all's own block freezes what the set-up built).
            with fewer_collections():
                super().invoke(*args, **kwargs)
        except ConfigValidationError:
            raise  # the SDK's command line reports it: one line per bad setting, then exit 1
        except TapStripeError as exc:
            cls.logger.debug("details of the failure below", exc_info=True)
            cls.logger.error("tap-stripe-aep stopped: %s: %s", type(exc).__name__, exc)
            sys.exit(1)

    @classmethod
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """``--discover``: the SDK's, with the set-up's fewer garbage collections (see ``invoke``), which the
        command line runs before ``invoke`` (as a callback of the option)."""
        if not value:
            return
        with fewer_collections():
            super().cb_discover(ctx, param, value)

    def sync_all(self) -> None:
        """One run; in continuous mode (``poll_interval_seconds``) then a poll every N seconds until stopped.

        Each poll is the SDK's ``sync_all`` again (``continuous.py`` says why), after what a single run may assume
        fixed is refreshed (:meth:`_start_poll`).
        """
        self._sync_started = True
        interval = self.poll_interval_seconds
        if interval is not None:
            self.recently_emitted = RecentlyEmitted()
            self._poll_clock = PollClock(interval)
        with fewer_collections():
            self._sync_all_polls(interval)

    def _sync_all_polls(self, interval: float | None) -> None:
        self._sync_partitions()
        if self._poll_clock is None:
            return
        self.logger.info("Continuous mode: history and catch-up done; polling Stripe every %s s", interval)
        elapsed = 0.0
        while self._stop_after_poll is None:
            self._phase = Phase.WAITING
            if not self._poll_clock.wait(elapsed):
                break
            started = time.monotonic()
            self._phase = Phase.POLLING
            self._start_poll()
            self._sync_partitions()
            elapsed = time.monotonic() - started
        self._phase = Phase.WAITING
        self._state_writer.write_state(self.state)  # the last STATE, whatever the SDK wrote before it
        self.logger.info(
            "tap-stripe-aep stopped by %s after its last poll; the last STATE line covers every record written",
            signal_name(self._stop_after_poll or 15),
        )

    def _sync_partitions(self) -> None:
        """The SDK's ``Tap.sync_all``, except which partition is written when: chosen at run time, batch by batch.

        Partitions are written by turns, switching only right after a batch's STATE line (``interleave.py``), in
        an order chosen from what is read (``sync_order.py``); a stream's progress markers are finalized after its
        last partition, as the SDK does after a stream.
        """
        self._reset_state_progress_markers()
        self._set_compatible_replication_methods()
        if self.state:
            self._state_writer.write_state(self.state)
        order = self.plan_sync()
        self._writer = PartitionWriter(
            order, ReadsAhead(self.prefetcher, self.read_budget), self.history_opened, self.history_closed
        )
        try:
            self.read_ahead()  # every partition read ahead starts now, before the first is chosen
            self._writer.run()
            self.logger.info(
                "Wrote %d batches by turns; waited %.1f s with nothing read to write",
                self._writer.turns,
                self._writer.waited,
            )
        finally:
            self._sync_order = None
            self._writer = None
        for stream in self.streams.values():
            stream.log_sync_costs()

    def history_opened(self, key: Hashable) -> ReaderShare:
        """A partition's history starts being written: the first open one is the partition the writer waits on.

        That one's requests go first (``request_pool.py``) and its read has its own allowance, never stopped by
        the reads ahead (``read_budget.py``); partitions written by turns beside it read as reads ahead do, so
        what they hold stays within the budget. When it is written, the next open one takes its place.
        """
        if key not in self._open_histories:  # the writer announces it when it opens the partition, then the stream
            self._open_histories.append(key)
            if self._waited_on is None:
                return self._wait_on(key)
        return self.read_budget.reader(key)

    def history_closed(self, key: Hashable) -> None:
        """A partition's history is written (or abandoned): what it held leaves the budget."""
        if key not in self._open_histories:
            return
        self._open_histories.remove(key)
        self.pool.forget(key)
        self.read_budget.forget(key)
        if self._waited_on == key:
            self._waited_on = None
            if self._open_histories:
                self._wait_on(self._open_histories[0])

    def _wait_on(self, key: Hashable) -> ReaderShare:
        self._waited_on = key
        self.pool.prefer(key)
        return self.read_budget.emitting(key)

    def plan_sync(self) -> SyncOrder:
        """The partitions this sync will write (the SDK's selection rules), to be read ahead and chosen from."""
        partitions: list[Partition] = []
        for stream in self.streams.values():
            if not stream.selected and not stream.has_selected_descendents:
                self.logger.info("Skipping deselected stream '%s'.", stream.name)
                continue
            if stream.parent_stream_type:
                continue  # synced by its parent (the SDK's rule; this tap declares no such stream)
            assert isinstance(stream, StripeStream), f"{stream.name} is not a Stripe stream"
            partitions += [Partition(stream, account) for account in stream.partition_accounts()]
        if any(getattr(p.stream, "can_be_fed", False) and p.stream.selected for p in partitions):
            # Every partition's key in the catalog's order first (asking one creates its state entry: the
            # order of the streams in STATE lines), then the child lists that share their parent's read. A key
            # needs Stripe's clock and the account's creation, a request each the first time an account is
            # seen: asked for all accounts at once, not one account after another before the first read.
            list(self.pool.map(self._learn_account, sorted({p.account for p in partitions})))
            partitions = pair_partitions(partitions, _planned_read_key, self.logger.info)
        self._sync_order = SyncOrder(
            partitions,
            _planned_read_key,
            ReadsAhead(self.prefetcher, self.read_budget),
            lookahead=2 * self.prefetch_partitions,
        )
        return self._sync_order

    @property
    def poll_interval_seconds(self) -> float | None:
        configured = self.config.get("poll_interval_seconds")
        return float(configured) if configured else None

    def _start_poll(self) -> None:
        """What one run reads once and a poll must read again: Stripe's clock, new connected accounts."""
        self._stripe_now.clear()
        if list(self.config.get("account_ids") or []) == [ALL_ACCOUNTS]:
            self._add_new_connected_accounts()

    # --- stop signals --------------------------------------------------------------------------------------

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT / SIGTERM: through the gate, so that the stop never cuts a message in two (``interruption.py``)."""
        if not self._owns_process:
            super()._handle_termination(signum, frame)
            return
        self.signal_gate.on_signal(signum)

    def stop_on_signal(self, signum: int) -> None:
        """Write the state every written record supports, say so in one line, and end the process now.

        The state is the tap's own at this instant: each partition's bookmarks move only after the records they
        cover were written (a window's ``backfill_done_through`` after its last record, ``events_since`` after
        the last change), so a resume re-reads the unfinished window and misses nothing. Requests in flight are
        not waited for (``os._exit``): they only read, and a Stripe request can take seconds to retry.
        """
        code = self.exit_code_on_signal(signum)
        if self._poll_clock is not None and not self._stopping:
            if self._phase is Phase.POLLING and self._stop_after_poll is None:
                # Finish the poll in hand (seconds): its records and STATE go out, then the loop ends.
                self._stop_after_poll = signum
                self.logger.info("%s received: finishing the poll in hand, then stopping", signal_name(signum))
                return
            if self._phase is Phase.WAITING:
                self._stop_after_poll = signum
                self._poll_clock.wake()  # sync_all writes the last STATE and returns: exit 0
                return
        if self._stopping:  # a second signal while the first is handled (stdout blocked?): stop at once
            os._exit(code)
        self._stopping = True
        outcome = "before reading anything"
        if self._sync_started:
            try:
                self._state_writer.write_state(self.state)
                outcome = "the last STATE line covers every record written before it"
            except OSError:
                outcome = "stdout is closed, so the last STATE line written stands"
        self.logger.error(
            "tap-stripe-aep interrupted by %s: %s; exit %d %s",
            signal_name(signum),
            outcome,
            code,
            "(continuous mode: a stop is its normal end; a restart resumes from that STATE)"
            if code == 0
            else "so the run counts as failed and is retried",
        )
        _exit_now(code)

    def exit_code_on_signal(self, signum: int) -> int:
        """130 for SIGINT, 143 for SIGTERM: a batch run that did not finish fails, so that a scheduler retries it.

        Continuous mode runs until it is stopped, so there a signal is the normal end: 0, after the last STATE
        (also during the first history read: its STATE is a resume point, and a service manager restarts it).
        """
        if self.poll_interval_seconds is not None:
            return 0
        return exit_code_for(signum)

    def discover_streams(self) -> list[StripeStream]:
        return [stream_type(self) for stream_type in STREAM_TYPES]

    # --- settings, validated before any request ---------------------------------------------------------

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The config the SDK holds (``_config``), before its schema check: number settings given as text by
        # Meltano or ``--config ENV`` become numbers (see ``number_settings``).
        numbers_from_text(self._config, self.config_jsonschema)
        errors = super()._validate_config(raise_errors=raise_errors)
        problems = config_problems(self.config)
        if problems and raise_errors:
            setting, problem = problems[0]
            raise ConfigError(setting, problem, more=[f"setting '{s}': {p}" for s, p in problems])
        return errors + [f"setting '{s}': {p}" for s, p in problems]

    @cached_property
    def stripe_client(self) -> StripeClient:
        """The one client of this run: its rate limiter is shared by every stream and thread."""
        return StripeClient(
            api_key=self.config["api_key"],
            api_url=self.config.get("api_url") or "https://api.stripe.com",
            api_version=STRIPE_API_VERSION,
            limiter=shared_bucket(self.max_requests_per_second),
            stripe_context=self.config.get("stripe_context") or None,
        )

    @property
    def max_requests_per_second(self) -> float:
        configured = self.config.get("max_requests_per_second")
        if configured:
            return float(configured)
        return TEST_MODE_RATE if "_test_" in self.config["api_key"] else LIVE_MODE_RATE

    @property
    def max_concurrency(self) -> int:
        # Little's law: requests in flight = rate x time a request takes. A fixed pool of 8 caps a live-mode key
        # at 40 requests/s when Stripe answers in 200 ms, less than half its 90; size the pool for 400 ms.
        configured = self.config.get("max_concurrency")
        if configured:
            return int(configured)
        return max(MIN_CONCURRENCY, math.ceil(self.max_requests_per_second * ASSUMED_REQUEST_SECONDS))

    @property
    def prefetch_partitions(self) -> int:
        """How many partitions to read ahead; each buffers a bounded number of windows (see ``prefetch.py``)."""
        return max(MIN_PREFETCH_PARTITIONS, math.ceil(self.max_requests_per_second / REQUESTS_PER_SECOND_PER_PARTITION))

    @property
    def backfill_window_seconds(self) -> int | None:
        days = self.config.get("backfill_window_days")
        return max(60, int(float(days) * 86400)) if days else None

    @cached_property
    def start_timestamp(self) -> int | None:
        start = self.config.get("start_date")
        return int(_parse_datetime(start).timestamp()) if start else None

    def account_ids(self) -> list[str]:
        """The accounts to read: the configured Connect accounts (``*``: all, listed once), else the key's own."""
        configured = list(self.config.get("account_ids") or [])
        if configured == [ALL_ACCOUNTS]:
            return self._connected_accounts
        return configured or [self._own_account_id]

    @property
    def platform_account_id(self) -> str:
        """The key's own account: where ``platform_only`` streams (connected accounts themselves) are read."""
        return self._own_account_id

    @cached_property
    def _connected_accounts(self) -> list[str]:
        """Every connected account of the platform, oldest first, from ``/v1/accounts`` (the platform's key)."""
        accounts: list[dict[str, Any]] = []
        try:
            for page in self.stripe_client.list_pages(
                "/v1/accounts", stream="accounts", permission="rak_connected_account_read"
            ):
                accounts.extend(page.get("data") or [])
        except StripeRequestError as exc:
            raise ConnectAccountsError(
                f"setting 'account_ids' is [\"*\"], but the platform's connected accounts cannot be listed "
                f"(is Connect activated for this account?): {exc}"
            ) from exc
        for account in accounts:
            self._accounts[str(account["id"])] = account
        ordered = sorted(accounts, key=lambda a: (int(a.get("created") or 0), str(a["id"])))
        self.logger.info('account_ids ["*"]: %d connected accounts', len(ordered))
        return [str(account["id"]) for account in ordered]

    def _add_new_connected_accounts(self) -> None:
        """Continuous mode, ``account_ids: ["*"]``: accounts connected since the list was read join the next poll.

        ``/v1/accounts`` lists newest first, so one page normally reaches an account already known; each new
        account is a new partition whose history is read like any first run's.
        """
        known = set(self._connected_accounts)
        new: list[dict[str, Any]] = []
        for page in self.stripe_client.list_pages(
            "/v1/accounts", stream="accounts", permission="rak_connected_account_read"
        ):
            data = page.get("data") or []
            new.extend(a for a in data if str(a["id"]) not in known)
            if any(str(a["id"]) in known for a in data):
                break
        for account in sorted(new, key=lambda a: (int(a.get("created") or 0), str(a["id"]))):
            self._accounts[str(account["id"])] = account
            self._connected_accounts.append(str(account["id"]))
            self.logger.info('account_ids ["*"]: account %s connected since the start; reading it', account["id"])

    def stripe_now(self, account: str) -> int:
        """Stripe's current time for ``account``, learned once per run.

        The ``Date`` header is Stripe's clock; the newest event's time is a floor under it, for servers whose
        ``Date`` lags the data (an emulator whose clock was moved forward).
        """
        if account not in self._stripe_now:
            client = self.stripe_client
            newest = 0
            try:
                page = client.get("/v1/events", {"limit": 1}, account=account, permission="rak_event_read")
                newest = max((int(e["created"]) for e in page.get("data") or []), default=0)
            except StripePermissionError:
                pass  # a restricted key without event access: the Date header alone
            self._stripe_now[account] = max(client.server_now(), newest)
        return self._stripe_now[account]

    @cached_property
    def pool(self) -> RequestPool:
        """The one bounded pool every Stripe request of the run is made from (the emitted partition first)."""
        return RequestPool(self.max_concurrency)

    @cached_property
    def read_budget(self) -> ReadBudget:
        """What every history read of the run holds together until written (bounds peak memory)."""
        return ReadBudget(READ_AHEAD_BYTES, EMITTED_PARTITION_BYTES)

    @cached_property
    def prefetcher(self) -> Prefetcher:
        return Prefetcher()

    def read_ahead(self) -> None:
        """Keep the history of the partitions still to sync being read (see ``prefetch.py``).

        Called by the SDK thread (it reads other streams' state) when a run starts, when a partition starts and
        after each batch written. ``prefetch_partitions`` reads are kept running, from a plan of twice as many
        partitions: small lists end after one request, and counting them as read ahead left the budget idle
        while the SDK emitted a large stream (measured: a 900-object list first read 2 s late). The plan, in the
        catalog's order, bounds what is held read ahead; which of them is written first is ``sync_order.py``'s.
        """
        order = self._sync_order
        if order is None:
            return
        plan = [(key, _history_reader(p.stream, p.account, key[2:])) for p, key in order.planned()]
        # The partitions written by turns come first: the writer takes their batches as soon as they are read.
        self.read_budget.plan([*self._open_histories, *(key for key, _ in plan)])
        self.prefetcher.read_ahead(plan, self.prefetch_partitions)

    def _learn_account(self, account: str) -> None:
        """What a partition's read key needs to know of ``account`` (remembered for the run)."""
        self.stripe_now(account)
        self.account_created(account)

    def account_created(self, account: str) -> int:
        """When ``account`` was created: no object in it is older, so history reads start there."""
        if account not in self._accounts:
            self._accounts[account] = self._read_account(account)
        return int(self._accounts[account].get("created") or STRIPE_EPOCH)

    @cached_property
    def _own_account_id(self) -> str:
        own = self._read_account(None)
        self._accounts[str(own["id"])] = own
        return str(own["id"])

    def _read_account(self, account: str | None) -> dict[str, Any]:
        try:
            return self.stripe_client.get("/v1/account", account=account)
        except StripePermissionError:
            if account is None:
                raise
            return {"id": account}  # a restricted key may not read account details: start at Stripe's epoch


def config_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every malformed setting, as (setting, problem); the key itself never appears in a problem."""
    problems: list[tuple[str, str]] = []
    key = config.get("api_key")
    if not isinstance(key, str) or not key:
        problems.append(("api_key", "required: a Stripe secret key (sk_...) or restricted key (rk_...)"))
    elif not key.startswith(KEY_PREFIXES):
        problems.append(("api_key", f"must start with one of {', '.join(KEY_PREFIXES)}"))
    elif not KEY_BODY.fullmatch(key):
        problems.append(("api_key", "holds a character no Stripe key has (a space, newline or punctuation?)"))
    start = config.get("start_date")
    if start is not None:
        try:
            _parse_datetime(start)
        except (TypeError, ValueError):
            problems.append(("start_date", f"{start!r} is not an RFC 3339 date-time (e.g. 2024-01-01T00:00:00Z)"))
    accounts = config.get("account_ids")
    if accounts is not None:
        if not isinstance(accounts, list):
            problems.append(("account_ids", "must be a list of Connect account ids (acct_...)"))
        elif ALL_ACCOUNTS in accounts and accounts != [ALL_ACCOUNTS]:
            problems.append(("account_ids", '"*" (every connected account) must be the only entry'))
        elif accounts != [ALL_ACCOUNTS]:
            bad = [a for a in accounts if not isinstance(a, str) or not ACCOUNT_ID.fullmatch(a)]
            if bad:
                problems.append(("account_ids", f"not Connect account ids (acct_ + letters/digits): {bad!r}"))
    context = config.get("stripe_context")
    if context is not None and (not isinstance(context, str) or not STRIPE_CONTEXT.fullmatch(context)):
        problems.append(
            ("stripe_context", f"must be an account id or a path of ids (acct_.../acct_...), got {context!r}")
        )
    for setting in ("max_requests_per_second", "max_concurrency", "backfill_window_days", "poll_interval_seconds"):
        value = config.get(setting)
        # The SDK reads a config file's decimals as Decimal (12.5 in tap.json arrives as Decimal('12.5')).
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | Decimal) or value <= 0
        ):
            problems.append((setting, f"must be a positive number, got {value!r}"))
    url = config.get("api_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        problems.append(("api_url", f"must be an http(s) address, got {url!r}"))
    return problems


def _exit_now(code: int) -> None:
    """End the process without running exit handlers, which would wait for the request threads."""
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _history_reader(stream: StripeStream, account: str, planned: tuple[int, int]) -> Callable[[], Iterator[Any]]:
    def read() -> Iterator[Any]:
        return stream.history_batches(account, *planned)

    return read


def _planned_read_key(partition: Partition) -> tuple[str, str, int, int] | None:
    """The read ahead key of ``partition``'s history read (as ``StripeStream._backfill`` takes it), if any."""
    planned = partition.stream.planned_history(partition.account)
    return None if planned is None else (partition.stream.name, partition.account, *planned)


def _parse_datetime(value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise TypeError("not a string")
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


if __name__ == "__main__":
    TapStripeAEP.cli()
