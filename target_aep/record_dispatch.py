"""A RECORD's way from the input to its sink, without the SDK's generic per-record steps that do nothing here.

``Target._process_record_message`` runs, for every record, steps written for any target: a copy of the record for
each stream map, the map's transform, a sink look-up, the ``_sdc_*`` metadata, the Singer-schema validation and
timestamp parsing (``AEPSink`` turns both off), ``preprocess_record``, a debug log call. For the common case, one
stream whose only map is the SDK's default ``SameRecordTransform`` without flattening going to an ``AEPSink``,
those are identities, and they cost as much as a fifth of the target's time per record. ``RecordDispatch`` does
what remains, in the SDK's order: tally, ``process_record``, the record metric, a drain when the sink is full, the
max-record-age check. Anything else (stream maps, another sink class, ``_sdc_*`` metadata, a malformed message)
goes through the SDK as before.

A RECORD line whose stream its head names (`record_head`) takes this path undecoded (`RecordDispatch.line`): the
same steps, with the line handed to the sink's mapping pool in place of the record. The pool decodes it with its
chunk: in a worker, or without workers in this process, one stream's lines in a row (`mapping_workers.map_lines`).

Whether a stream takes this path is decided once per (stream maps, sink) pair and remembered (a *lane*): the SDK
replaces a stream's sink on a new SCHEMA message and its maps on a new catalog, and either replacement is seen
by identity and decided again.
"""

from __future__ import annotations

import typing as t
from time import time

from singer_sdk.mapper import SameRecordTransform

from target_aep.mapping_workers.lines import SDC_KEYS
from target_aep.sinks import AEPSink

if t.TYPE_CHECKING:
    from singer_sdk import Target

_NO_RECORD: dict = {}


def _plain_lane(stream: str, maps: t.Any, sink: t.Any) -> bool:
    """Whether records of ``stream`` reach ``sink`` unchanged by the SDK's steps (see the module docstring)."""
    if maps is None or len(maps) != 1:
        return False
    stream_map = maps[0]
    if type(stream_map) is not SameRecordTransform or stream_map.stream_alias != stream:
        return False
    if stream_map.flattening_options and stream_map.flattening_enabled:
        return False
    return type(sink) is AEPSink and sink.plain_records


class RecordDispatch:
    """Hands RECORD messages to their sinks as the SDK would, for streams on a plain lane."""

    def __init__(self, target: Target) -> None:
        self._target = target
        # stream -> (its stream maps, its sink, whether they form a plain lane), checked by identity per record
        self._lanes: dict[str, tuple[t.Any, t.Any, bool]] = {}

    def _plain_sink(self, stream: str) -> t.Any:
        """The sink of ``stream`` when its records take the plain lane, else None."""
        target = self._target
        maps = target.mapper.stream_maps.get(stream)
        sink = target._sinks_active.get(stream)
        lane = self._lanes.get(stream)
        if lane is None or lane[0] is not maps or lane[1] is not sink:
            lane = self._lanes[stream] = (maps, sink, _plain_lane(stream, maps, sink))
        return sink if lane[2] else None

    def line(self, stream: str, raw_line: bytes, line_number: int) -> bool:
        """One RECORD line of ``stream``, not decoded (`record_head`), to its sink's mapping pool; False (nothing
        done: the reader decodes the line) unless the stream takes the plain lane to a pool (not in streaming)."""
        # `_plain_sink` inline while the stream's lane is unchanged (a call less for every record).
        lane = self._lanes.get(stream)
        target = self._target
        if (
            lane is not None
            and lane[1] is target._sinks_active.get(stream)
            and lane[0] is target.mapper.stream_maps.get(stream)
        ):
            sink = lane[1] if lane[2] else None
        else:
            sink = self._plain_sink(stream)
        if sink is None or sink._pool is None:
            return False
        # `BatchSink._get_context` (AEPSink's own on this lane) does not read the record, and returns the pending
        # batch's context once there is one: read here, a call less for every record.
        context = sink._pending_batch
        if context is None:
            context = sink._get_context(_NO_RECORD)
        # `Sink.tally_record_read()` inline (AEPSink does not override it): a call less for every record.
        sink._total_records_read += 1
        sink._batch_records_read += 1
        sink.accept_line(raw_line, context, line_number)
        self._after_record(sink)
        return True

    def __call__(self, message_dict: dict) -> bool:
        """One RECORD message to its sink; False (nothing done) when the SDK must do it."""
        stream = message_dict.get("stream")
        record = message_dict.get("record")
        if type(record) is not dict or type(stream) is not str:
            return False
        sink = self._plain_sink(stream)
        if sink is None:
            return False
        target = self._target
        # The SDK copies the record for each map because several maps may change it; with the one identity map the
        # decoded message is ours alone, so the copy is skipped.
        context = sink._get_context(record)
        for key in SDC_KEYS:  # `_remove_sdc_metadata_from_record`, for a tap that sends them
            if key in record:
                del record[key]
        sink.tally_record_read()
        # The record is its input line's, unchanged but for the `_sdc_*` keys (which a worker removes the same way):
        # with `mapping_workers`, the line is what travels to a worker.
        sink.accept_record(record, context, getattr(target.message_reader, "current_line", None))
        self._after_record(sink)
        return True

    def _after_record(self, sink: t.Any) -> None:
        """The SDK's steps after `process_record`: the record metric, a drain when full, the max-age check.

        `Counter.increment` and `Target._handle_max_record_age` each read the clock for every record (about a
        microsecond a record for the two calls and their reads); here one read serves both, with the SDK's own
        comparisons, so the count is logged and every sink drained exactly when the SDK would. After a drain the
        clock is read again, as the SDK's age check would after `drain_one`.
        """
        target = self._target
        metric = sink.record_counter_metric
        metric.value += 1
        now = time()
        if now - metric.last_log_time > metric.log_interval:  # `Counter._ready_to_log`
            metric._pop()
        if sink.is_full:
            target.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...", sink.stream_name, sink.current_size
            )
            target.drain_one(sink)
            now = time()
        if (now - target._last_full_drain_at) / 60 > target._MAX_RECORD_AGE_IN_MINUTES:
            target._handle_max_record_age()  # `Target._max_record_age_in_minutes` passed: it drains every sink
