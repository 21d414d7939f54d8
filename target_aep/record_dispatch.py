"""A RECORD's way from the input to its sink, without the SDK's generic per-record steps that do nothing here.

``Target._process_record_message`` runs, for every record, steps written for any target: a copy of the record for
each stream map, the map's transform, a sink look-up, the ``_sdc_*`` metadata, the Singer-schema validation and
timestamp parsing (``AEPSink`` turns both off), ``preprocess_record``, a debug log call. For the common case, one
stream whose only map is the SDK's default ``SameRecordTransform`` without flattening going to an ``AEPSink``,
those are identities, and they cost as much as a fifth of the target's time per record. ``dispatch_record`` does
what remains, in the SDK's order: tally, ``process_record``, the record metric, a drain when the sink is full, the
max-record-age check. Anything else (stream maps, another sink class, ``_sdc_*`` metadata, a malformed message)
goes through the SDK as before.
"""

from __future__ import annotations

import typing as t

from singer_sdk.mapper import SameRecordTransform

from target_aep.mapping_workers import SDC_KEYS
from target_aep.sinks import AEPSink

if t.TYPE_CHECKING:
    from singer_sdk import Target


def dispatch_record(target: Target, message_dict: dict) -> bool:
    """Hand one RECORD message to its sink as the SDK would; False (nothing done) when the SDK must do it."""
    stream = message_dict.get("stream")
    record = message_dict.get("record")
    if type(record) is not dict or type(stream) is not str:
        return False
    maps = target.mapper.stream_maps.get(stream)
    if maps is None or len(maps) != 1:
        return False
    stream_map = maps[0]
    if type(stream_map) is not SameRecordTransform or stream_map.stream_alias != stream:
        return False
    if stream_map.flattening_options and stream_map.flattening_enabled:
        return False
    sink = target._sinks_active.get(stream)
    if type(sink) is not AEPSink or not sink.plain_records:
        return False
    # The SDK copies the record for each map because several maps may change it; with the one identity map the
    # decoded message is ours alone, so the copy is skipped.
    context = sink._get_context(record)
    for key in SDC_KEYS:  # `_remove_sdc_metadata_from_record`
        record.pop(key, None)
    sink.tally_record_read()
    # The record is its input line's, unchanged but for the `_sdc_*` keys (which a worker removes the same way):
    # with `mapping_workers`, the line is what travels to a worker.
    sink.accept_record(record, context, getattr(target.message_reader, "current_line", None))
    sink.record_counter_metric.increment()
    if sink.is_full:
        target.logger.info(
            "Target sink for '%s' is full. Current size is '%s'. Draining...", sink.stream_name, sink.current_size
        )
        target.drain_one(sink)
    target._handle_max_record_age()
    return True
