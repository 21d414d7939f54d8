"""The SDK's per-record steps, without those that are identities for this tap.

For each record, ``Stream._sync_records`` calls three hooks, and at 10,000 objects/s each microsecond in them is
1% of a core. Measured per Stripe charge (~1.5 KB) on singer-sdk 0.54, they cost about 50 µs plus 30 µs of JSON
encoding, which for this tap do nothing useful:

- ``_process_record`` adds the partition's keys (the record has ``account_id`` already) and syncs child streams
  (the tap reads child lists itself, it declares no SDK child streams);
- ``_write_record_message`` walks the whole record against the selection mask to drop deselected properties,
  calls type conformance (``NONE`` here), and runs each record through the stream maps (one identity map unless
  the user configured ``stream_maps`` or flattening), building a ``RecordMessage`` to encode;
- ``_increment_stream_state`` looks the partition's state up in the tap's state for each record, to set
  ``replication_key_value`` to the record's ``updated`` (``is_sorted`` without ``check_sorted``: the last record's
  value, not the largest).

:class:`FastRecordPath` does the same with what is left: when nothing is deselected, the one stream map is the
identity and there are no SDK child streams (:meth:`_records_pass_through`, decided once per stream), a record
becomes its RECORD line in one ``exact_json.record_line`` call and the bookmark is two dict writes on the
partition's state, which the stream caches. Anything else (a deselected property, a stream map, a child stream)
takes the SDK's own path, unchanged. The output is byte for byte the SDK's (``tests/tap/test_record_path.py``).
When those steps are the fast ones, :meth:`FastRecordPath._sync_records` also runs the SDK's record loop for one
partition with them inlined (the calls between them were another 2-3 µs a record).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams.core import Stream as SDKStream

from tap_stripe_aep.exact_json import record_line
from tap_stripe_aep.writer import FastSingerWriter

if TYPE_CHECKING:
    from singer_sdk import Stream

    _Base = Stream
else:
    _Base = object


class _ExtractionClock:
    """``time_extracted`` as the SDK writes it (``utc_now().isoformat()``), about five times cheaper.

    Building a ``datetime`` and formatting all of it cost about 1.5 µs a record (2-3% of the tap's CPU); here the
    date and time of day are formatted once per second and each record adds its microseconds. Same clock (the
    system's, floored to the microsecond as ``datetime.now`` floors it), same text: ``...THH:MM:SS.ffffff+00:00``,
    without the fraction when the microseconds are 0, as ``isoformat`` writes it.
    """

    __slots__ = ("_formatted",)

    def __init__(self) -> None:
        # (second, its "YYYY-MM-DDTHH:MM:SS") as one tuple, replaced whole: a thread never pairs one second's
        # text with another second.
        self._formatted: tuple[int, str] = (-1, "")

    def now(self) -> str:
        """The current UTC time as ``datetime.datetime.now(datetime.timezone.utc).isoformat()`` writes it."""
        return self.format(time.time_ns() // 1000)

    def format(self, epoch_microseconds: int) -> str:
        """``epoch_microseconds`` (since 1970, UTC) as ``datetime.isoformat`` writes that instant in UTC."""
        second, microsecond = divmod(epoch_microseconds, 1_000_000)
        formatted_second, prefix = self._formatted
        if second != formatted_second:
            prefix = datetime.datetime.fromtimestamp(second, datetime.UTC).isoformat()[:19]
            self._formatted = (second, prefix)
        if microsecond:
            return f"{prefix}.{microsecond:06d}+00:00"
        return prefix + "+00:00"


extraction_clock = _ExtractionClock()


class FastRecordPath(_Base):
    """Mixin for an SDK ``Stream`` whose records are plain JSON values, replicated by ``updated``."""

    _pass_through: bool | None = None
    _last_value_bookmark: bool | None = None
    # The partition whose state the bookmark goes to: set by ``get_records`` (the context object the SDK passes
    # to both) so that the state dict is not looked up again for every record.
    _records_context: Any = None
    _records_state: dict[str, Any] | None = None

    def remember_partition_state(self, context: Any, state: dict[str, Any]) -> None:
        """The state dict of ``context``'s partition, as ``get_records`` got it for the same context object."""
        self._records_context = context
        self._records_state = state

    def _records_pass_through(self) -> bool:
        """Whether the SDK's per-record steps are identities for this stream (decided once: the catalog, the stream
        maps and the child streams are fixed once syncing starts)."""
        if self._pass_through is None:
            maps = self.stream_maps
            only_map = maps[0] if len(maps) == 1 else None
            self._pass_through = (
                type(only_map) is SameRecordTransform
                and only_map.stream_alias == self.name
                and not (only_map.flattening_options and only_map.flattening_enabled)
                # A missing breadcrumb takes its parent's value and the root defaults to True, so when every
                # stored value is True, no property of any record can be deselected.
                and all(self.mask.values())
                and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
                and not self.child_streams
                and isinstance(self._tap.message_writer, FastSingerWriter)
            )
        return self._pass_through

    def _sync_records(
        self, context: Mapping[str, Any] | None = None, *, write_messages: bool = True
    ) -> Generator[dict, Any, Any]:
        """The SDK's record loop for one partition, with the three hooks above inlined when they are identities.

        ``Stream._sync_records`` calls, for every record, ``_check_max_record_limit``, ``post_process``,
        ``_process_record``, ``_write_record_message`` and ``_increment_stream_state``: at about 0.1-0.3 µs a
        call plus the checks each repeats (``_records_pass_through`` twice), 2-3 µs a record, 4% of the tap's CPU.
        When every one of them is an identity or the fast path above (no dry-run limit, no ``post_process``
        override, the partition is its own state partition), this loop does the same steps in the same order
        for each record, and around them exactly what the SDK's loop does for one partition: metrics, the
        starting replication value, the partition's state finalized, the last STATE line. Anything else takes
        the SDK's loop unchanged. ``tests/tap/test_record_path.py`` compares both loops' lines and state.
        """
        if not (
            context
            and write_messages
            and self.selected
            and self.ABORT_AT_RECORD_COUNT is None
            and type(self).post_process is SDKStream.post_process
            and self._records_pass_through()
            and self._bookmark_is_last_value()
            and self._get_state_partition_context(context) == context
        ):
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        record_counter = self.get_record_counter()
        timer = self.get_sync_timer()
        with record_counter, timer:
            record_counter.with_context(context)
            timer.with_context(context)
            self._write_starting_replication_value(context)
            yield from self._write_partition_records(context, record_counter)
            self._finalize_state(self.get_context_state(context))
        self._write_state_message()

    def _write_partition_records(self, context: Mapping[str, Any], record_counter: Any) -> Generator[dict, Any, None]:
        """Each record of ``get_records(context)`` as ``_process_record``, ``_write_record_message`` and
        ``_increment_stream_state`` above would write and bookmark it, then counted and yielded."""
        name = self.name
        partition_items = tuple(context.items())
        state_manager = self.state_manager
        writer = self._tap.message_writer
        assert isinstance(writer, FastSingerWriter)
        write_line = writer.write_record_line
        now = extraction_clock.now
        replication_key = self.replication_key
        state_message_frequency = self.STATE_MSG_FREQUENCY
        records = cast(Iterable[dict[str, Any]], self.get_records(context))  # never the deprecated tuples
        for written, record in enumerate(records, start=1):
            for key, value in partition_items:  # _process_record
                if key not in record:
                    record[key] = value
            message: dict[str, Any] = {"type": "RECORD", "stream": name, "record": record}  # _write_record_message
            if self._stream_version is not None:
                message["version"] = self._stream_version
            message["time_extracted"] = now()
            write_line(record_line(message))
            state_manager.is_flushed = False
            state = self._records_state  # _increment_stream_state
            value = record.get(replication_key)  # type: ignore[arg-type]  # a str: _bookmark_is_last_value
            if state is not None and context is self._records_context and type(value) is str:
                state["replication_key"] = replication_key
                state["replication_key_value"] = value
            else:
                self._increment_stream_state(record, context=context)
            if written % state_message_frequency == 0:
                self._write_state_message()
            record_counter.increment()
            yield record

    def _process_record(
        self,
        record: dict,
        child_context: Mapping[str, Any] | None = None,
        partition_context: Mapping[str, Any] | None = None,
    ) -> None:
        if not self._records_pass_through():
            super()._process_record(record, child_context=child_context, partition_context=partition_context)
            return
        for key, value in (partition_context or {}).items():
            if key not in record:
                record[key] = value

    def _write_record_message(self, record: dict) -> None:
        if not self._records_pass_through():
            super()._write_record_message(record)
            return
        # RecordMessage.to_dict's keys in its order; time_extracted as the SDK's writer wrote it (isoformat).
        message: dict[str, Any] = {"type": "RECORD", "stream": self.name, "record": record}
        if self._stream_version is not None:
            message["version"] = self._stream_version
        message["time_extracted"] = extraction_clock.now()
        writer = self._tap.message_writer
        assert isinstance(writer, FastSingerWriter)
        writer.write_record_line(record_line(message))
        self.state_manager.is_flushed = False

    def _bookmark_is_last_value(self) -> bool:
        """Whether the SDK's bookmark is simply the latest record's replication key value (decided once)."""
        if self._last_value_bookmark is None:
            self._last_value_bookmark = bool(
                self.replication_method == REPLICATION_INCREMENTAL
                and self.replication_key
                and self.is_sorted
                and not self.check_sorted
                and self.state_partitioning_keys is None
            )
        return self._last_value_bookmark

    def _increment_stream_state(self, latest_record: dict, *, context: Mapping[str, Any] | None = None) -> None:
        state = self._records_state
        value = latest_record.get(self.replication_key) if self.replication_key else None
        if (
            state is None
            or context is None
            or context is not self._records_context
            or type(value) is not str  # None (the SDK warns), or a value the SDK would convert to JSON first
            or not self._bookmark_is_last_value()
        ):
            super()._increment_stream_state(latest_record, context=context)
            return
        # singer_sdk.helpers._state.increment_state for a sorted stream without check_sorted: the latest record's
        # value, not the largest.
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value
