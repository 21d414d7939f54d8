"""Sinks: Stripe record -> XDM (mapping) -> XdmValidator -> JSON line -> AEP, and when state may advance.

State after acceptance: the SDK writes a STATE line only at the end of ``Target.drain_all``, after
``process_batch`` has run for every sink (a sink drained early because it is full writes no state). Our
``process_batch`` hands the batch to ``DeliveryQueue`` (in batch mode through ``dataset_batches``, which makes one
AEP batch of a drain's streams of one dataset), whose delivery returns only once AEP has *accepted* it
(the Batch Ingestion batch polled to ``success``, or every streaming message answered 2xx, or rejected for good
and dead-lettered), and ``TargetAEP._write_state_message`` waits for every queued delivery before writing. A
failed batch raises there (or at the stream's next batch), which ends the run before any STATE line covers it.

Memory stays bounded: records are held as serialized JSON lines, and a sink reports itself full at
``batch_max_records`` records or ``batch_max_bytes`` bytes, which makes the SDK drain it. Those bounds are per
stream; the streams also share one budget (``shared_buffer``): past it, the dataset holding the most bytes drains,
all its streams as one AEP batch.
"""

from __future__ import annotations

import datetime
import logging
import time
import typing as t
from collections.abc import Sequence
from concurrent.futures import Future

from singer_sdk.sinks import BatchSink

from target_aep.aep.streaming import REQUEST_MAX_BYTES
from target_aep.dataset_batches import StreamPart
from target_aep.line_batch import LineBatch
from target_aep.mapping_workers.lines import SDC_KEYS
from target_aep.mapping_workers.records import map_one, map_validated, missing_key_reasons
from target_aep.reader import decode_message
from target_aep.xdm import XdmValidator
from target_aep.xdm.commerce import unconvertible_amount

if t.TYPE_CHECKING:
    from target_aep.mapping_workers.lines import RecordFacts
    from target_aep.mapping_workers.pool import MappingPool
    from target_aep.mapping_workers.records import Outcome
    from target_aep.runtime import Destination, TargetRuntime
    from target_aep.target import TargetAEP
    from target_aep.xdm.repairs import Repair

DEFAULT_BATCH_MAX_RECORDS = 50_000
DEFAULT_BATCH_MAX_BYTES = 32 * 1024 * 1024


class AEPSink(BatchSink):
    """One stream's records on their way to one dataset (or one local file in ``output_dir`` mode)."""

    def __init__(self, target: TargetAEP, stream_name: str, schema: dict, key_properties: t.Any) -> None:
        self.runtime: TargetRuntime = target.runtime
        self._max_records: int | None = None
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)
        self.max_bytes = int(self.config.get("batch_max_bytes") or DEFAULT_BATCH_MAX_BYTES)
        self._max_records = self.max_size  # set here so that `is_full` reads it without the property
        self.buffered_bytes = 0
        self._shared_buffer = self.runtime.shared_buffer
        self._in_flight: Future[None] | None = None
        # This sink's records' stage timings (`mapping_workers` adds the workers' to it).
        self.stage_seconds = self.runtime.report.stage_counter()
        self._pool: MappingPool | None = target.mapping_pool
        self._live_since = self.runtime.started_iso

    # -- SDK hooks we turn off on purpose

    def get_validator(self) -> None:  # type: ignore[override]
        """No SDK jsonschema validation of the Singer record.

        The SDK validates every input record against the tap's stream schema with jsonschema, which perf-notes
        measured at 87% of a do-nothing target's time. The check that matters here is the XDM validation of
        what we send (``XdmValidator``), and a mapping error dead-letters the record anyway.
        """
        return None

    def _validate_and_parse(self, record: dict) -> dict:
        """Skip the SDK's per-record timestamp parsing: the XDM mapping reads RFC 3339 strings itself, and
        parsing every date field into ``datetime`` only to serialize it again was the next largest cost."""
        return record

    def _singer_validate_message(self, record: dict) -> None:
        """The SDK raises (ending the run) on a missing key property; we dead-letter that record instead."""

    # -- set-up

    @property
    def max_size(self) -> int:
        # Read once: `is_full` asks after every record, and the settings do not change during a run.
        if self._max_records is None:
            self._max_records = int(self.config.get("batch_max_records") or DEFAULT_BATCH_MAX_RECORDS)
        return self._max_records

    @property
    def is_full(self) -> bool:
        """Full by this stream's own bounds: the SDK drains it alone (it is already a large batch).

        Past the budget all streams share, what drains is the dataset holding the most bytes, which need not be
        this stream's: the SDK asks only this, after each record, and then drains only this sink, so that drain
        runs here (``shared_buffer``), and this sink reports full only by its own bounds. The check follows what
        every stream added (``grown``), not this one's: with mapping workers a record's line is kept a chunk
        later, often in a stream the tap has finished.
        """
        # `current_size` and `max_size` read as the attributes behind them (two property calls a record less).
        if self._batch_records_read >= self._max_records or self.buffered_bytes >= self.max_bytes:  # type: ignore[operator]
            return True
        shared = self._shared_buffer
        if shared.grown >= shared.check_step:
            shared.relieve()
        return False

    def setup(self) -> None:
        """Resolve the dataset and its schema, build the mapper and the validator (fails before sending)."""
        super().setup()
        destination = self.runtime.destination(self.stream_name)
        assert destination is not None  # streams without a destination get a SkippedStreamSink
        self.destination: Destination = destination
        # The XDM class (profile, event, record) follows the dataset's schema, not the stream name.
        self.mapper_args = self.runtime.mapper_args(self.stream_name, destination.schema)
        self.mapper = self.runtime.mapper(self.stream_name, destination.schema)
        self._repair_log = self.mapper.repairs
        self.validator = XdmValidator.for_schema(destination.schema)
        self.runtime.report.land_in(
            self.stream_name,
            str(destination.output_path) if destination.output_path else destination.dataset.dataset_id,  # type: ignore[union-attr]
        )
        self._key_names = tuple(self.key_properties) or ("id",)
        self._single_key = self._key_names[0] if len(self._key_names) == 1 else None
        # Read once, not per record: the settings do not change during a run.
        self._counts = self.runtime.report.streams[self.stream_name]
        self._streaming = self.runtime.streaming and destination.dataset is not None
        # Batch Ingestion names a refused row's record by its key; a local file or streaming never needs them.
        self._keeps_keys = destination.output_path is None and not self._streaming
        if self._streaming:  # streaming is about latency, and its envelope needs the XDM object: mapped here
            self._pool = None
        # Records reach `process_record` as the tap sent them (no `_sdc_*` metadata added): what lets
        # `record_dispatch` skip the SDK's generic per-record steps.
        self.plain_records = not self.include_sdc_metadata_properties
        # What it drains with when the streams together fill the shared buffer: its dataset's other streams in
        # batch mode (one AEP batch), else nothing (a local file or streaming sends each stream on its own).
        self.buffer_group = f"dataset {destination.dataset.dataset_id}" if self._keeps_keys else self.stream_name  # type: ignore[union-attr]
        self.runtime.shared_buffer.sinks.append(self)
        self.logger.info(
            "Stream '%s' -> %s as %s (%s)",
            self.stream_name,
            destination.output_path or f"dataset {destination.dataset.dataset_id}",  # type: ignore[union-attr]
            self.mapper.xdm_class,
            "local file" if destination.output_path else "streaming" if self.runtime.streaming else "batch",
        )

    # -- per record

    def process_record(self, record: dict, context: dict) -> None:
        """Map, validate and serialize one record; a bad one goes to the dead-letter file."""
        self.accept_record(record, context, None)

    def accept_record(self, record: dict, context: dict, raw_line: bytes | None) -> None:
        """`process_record`, given the input line the record was decoded from when it is exactly that line's
        record (`record_dispatch`): with `mapping_workers`, such a record is mapped in a worker and completed
        in input order (`complete_record`)."""
        self._counts.received += 1
        # `missing_key_reasons`, its common case inline (one key property, present): a call less per record
        key_name = self._single_key
        if key_name is not None and record.get(key_name) is not None:
            missing = None
        else:
            missing = missing_key_reasons(record, self.key_properties, self._key_names)
        pool = self._pool
        if pool is not None:
            if raw_line is not None:
                # The money check below runs with the mapping (`mapping_workers.map_group`), in a worker if any.
                pool.submit(self, record, context, raw_line, missing)
                return
            pool.complete_all()  # a record mapped here comes after every record before it
        # Money never lands without a valid currency: an amount in an unknown unit cannot be converted, and
        # landing it (or dropping only the currency) would count revenue in an unknown unit.
        reasons = (
            missing
            if missing
            else [problem]
            if (problem := unconvertible_amount(self.stream_name, record)) is not None
            else None
        )
        if reasons is not None:
            self.reject(record, reasons)
            return
        if not self._streaming:
            self.complete_record(record, context, map_one(self.mapper, self.validator, record, self.stage_seconds))
            return
        # Streaming: the envelope needs the XDM object, not its line.
        xdm, reasons = map_validated(self.mapper, self.validator, record, self.stage_seconds)
        if xdm is None:
            self.reject(record, reasons)  # type: ignore[arg-type]
            return
        validated = time.perf_counter()
        line = self.runtime.envelope(self.destination.dataset, xdm)  # type: ignore[arg-type]
        if len(line) > REQUEST_MAX_BYTES:
            self.mapper.take_repairs()
            self.reject(record, [f"streaming message of {len(line)} bytes is over DCS's 1 MB limit"])
            return
        context.setdefault("originals", []).append(record)
        self.stage_seconds["serialization"] += time.perf_counter() - validated
        if self._repair_log.pending:  # only a record the mapping had to change pays for this
            self._trace_repairs(self._record_id(record), xdm.get("_id"), self.mapper.take_repairs())
        self._keep_line(record.get("updated"), context, line)

    def accept_line(self, raw_line: bytes, context: dict, line_number: int) -> None:
        """`accept_record` for a RECORD line the main process did not decode (`record_head`): a mapping worker
        decodes it, and it is completed in input order (`complete_line`)."""
        self._counts.received += 1
        self._pool.submit_line(self, raw_line, context, line_number)  # type: ignore[union-attr]

    def complete_record(self, record: dict, context: dict, outcome: Outcome) -> None:
        """Keep a record's XDM line for its batch (or reject it) once mapped (`mapping_workers.map_one`): here
        or in a worker, whose records are completed in input order."""
        line, reasons, _, repairs = outcome
        if line is None:
            self.reject(record, reasons)  # type: ignore[arg-type]
            return
        # The key is read only where it is kept or names a repair (this runs for every record).
        key = None
        if self._keeps_keys or repairs:
            key_name = self._single_key
            key = record.get(key_name) if key_name is not None else tuple(map(record.get, self._key_names))
        self._keep_outcome(context, outcome, (key, record.get("updated")))

    def complete_line(self, raw_line: bytes, context: dict, outcome: Outcome, facts: RecordFacts) -> None:
        """`complete_record` for a line mapped by a worker that the main process did not decode: ``facts`` are
        what the sink reads of the record (`mapping_workers.map_lines`); the line is decoded here only to
        dead-letter its record, exactly as `record_dispatch` would have handed it over."""
        if outcome[0] is None:
            record = decode_message(raw_line, 0)["record"]
            for key in SDC_KEYS:
                if key in record:
                    del record[key]
            self.reject(record, outcome[1])  # type: ignore[arg-type]
            return
        self._keep_outcome(context, outcome, facts)

    def complete_lines(self, context: dict, lines: list[bytes], facts: list[RecordFacts]) -> None:
        """`complete_line` for a run of this batch's records, in input order, each mapped to an XDM line without
        repairs (`mapping_workers.pool._finish_grouped`): the same lines, keys and live changes, kept in one step."""
        batch = context.get("lines")
        if batch is None:
            batch = context["lines"] = LineBatch()
        if self._keeps_keys:
            context.setdefault("record_keys", []).extend([key for key, _ in facts])
        live_since = self._live_since
        first = len(batch)
        for offset, (_, updated) in enumerate(facts):
            if updated is not None and updated >= live_since:  # a change made while the pipeline ran (a string)
                context.setdefault("live_changes", []).append((first + offset, updated))
        size = batch.extend(lines)
        self.buffered_bytes += size
        self._shared_buffer.grown += size

    def _keep_outcome(self, context: dict, outcome: Outcome, facts: RecordFacts) -> None:
        line, _, xdm_id, repairs = outcome
        key, updated = facts
        if self._keeps_keys:
            # Only the key travels beside the line: enough to name the record if AEP refuses its row.
            context.setdefault("record_keys", []).append(key)
        if repairs:
            self._trace_repairs(self._record_id_of_key(key), xdm_id, repairs)
        self._keep_line(updated, context, line)  # type: ignore[arg-type]

    def _keep_line(self, updated: object, context: dict, line: bytes) -> None:
        lines = context.get("lines")
        if lines is None:
            lines = context["lines"] = LineBatch()
        if isinstance(updated, str) and updated >= self._live_since:  # a change made while the pipeline ran
            context.setdefault("live_changes", []).append((len(lines), updated))
        lines.append(line)
        self.buffered_bytes += len(line)
        self._shared_buffer.grown += len(line)

    def _trace_repairs(self, record_id: object, xdm_id: t.Any, repairs: list[Repair]) -> None:
        """Each value the mapping left out or altered: a line in the repairs file and a count by reason."""
        self.runtime.repairs.trace(self.stream_name, record_id, xdm_id, repairs)
        shown = str(record_id)
        for repair in repairs:
            self.runtime.report.count_repair(self.stream_name, repair.reason, shown)

    def _record_id(self, record: dict) -> object:
        """The record's Stripe id, or its whole key when the key has several properties (id and account)."""
        if len(self.key_properties) > 1:
            return {k: record.get(k) for k in self.key_properties}
        return record.get(self.key_properties[0] if self.key_properties else "id")

    def _record_id_of_key(self, key: object) -> object:
        """`_record_id` from the record's key as `complete_record` reads it (a tuple for several properties)."""
        if len(self.key_properties) > 1:
            return dict(zip(self.key_properties, key, strict=True))  # type: ignore[call-overload]
        return key

    def reject(self, record: dict, reasons: list[str]) -> None:
        record_id = self._record_id(record)
        self.runtime.dead_letters.reject(self.stream_name, record, reasons, record_id)
        self.runtime.report.count_reject(self.stream_name, reasons[0], record_id)

    # -- per batch

    def process_batch(self, context: dict) -> None:
        """Hand the batch over for delivery (see ``target_aep.delivery_queue`` for why state stays safe).

        The stream's previous delivery must have succeeded first: this keeps a stream's batches in order and
        surfaces a failed batch before more records of the stream are sent. In batch mode the batch goes to
        ``dataset_batches``, which joins the streams of a dataset drained together into one AEP batch.
        """
        if self._pool is not None:
            self._pool.complete_all()  # every record submitted so far is in its batch before it is delivered
        lines: LineBatch | list[bytes] = context.pop("lines", [])
        originals: list[dict] = context.pop("originals", [])
        record_keys: list[object] = context.pop("record_keys", [])
        live_changes: list[tuple[int, str]] = context.pop("live_changes", [])
        size = self.buffered_bytes
        self.buffered_bytes = 0
        if not lines:
            return
        destination = self.destination
        if destination.dataset is not None and destination.output_path is None and not self._streaming:
            # Batch Ingestion: with the other streams of its dataset when every sink is drained, else alone
            # (`dataset_batches`, which also keeps the stream's batches in order).
            part = StreamPart(
                self.stream_name,
                lines,
                RecordIds(self._key_names, record_keys),
                size,
                lambda _batch_id: self._landed(len(lines), live_changes),
            )
            self.runtime.dataset_batches.offer(destination.dataset, part)
            return
        if self._in_flight is not None:
            self._in_flight.result()
        self._in_flight = self.runtime.deliveries.submit(lambda: self._deliver(lines, originals, live_changes), size)

    def _landed(self, records: int, live_changes: list[tuple[int, str]]) -> None:
        """AEP accepted the batch holding these records of the stream."""
        self.runtime.report.add(self.stream_name, landed=records)
        self._record_latencies(live_changes, refused=set())

    def _deliver(self, lines: t.Sequence[bytes], originals: list[dict], live_changes: list[tuple[int, str]]) -> None:
        """Write one batch to its local file, or stream it and return once every message is answered."""
        destination = self.destination
        if destination.output_path is not None:
            self.runtime.write_local(destination.output_path, lines)
            self.runtime.report.add(self.stream_name, landed=len(lines))
            return
        dataset = destination.dataset
        assert dataset is not None
        rejections = self.runtime.send_streaming(dataset, lines)
        for rejection in rejections:
            self.reject(
                originals[rejection.index],
                [f"streaming ingestion refused it (HTTP {rejection.status}): {rejection.message}"],
            )
        self.runtime.report.add(self.stream_name, landed=len(lines) - len(rejections))
        self.runtime.report.record_streaming(
            self.stream_name, dataset.dataset_id, dataset.inlet_id or "", sent=len(lines), refused=len(rejections)
        )
        self._record_latencies(live_changes, refused={r.index for r in rejections})

    def _record_latencies(self, live_changes: list[tuple[int, str]], refused: set[int]) -> None:
        """Seconds from each landed live change's ``updated`` to now, when AEP confirmed it (``RunReport``)."""
        if not live_changes:
            return
        accepted_at = time.time()
        report = self.runtime.report
        for index, updated in live_changes:
            if index not in refused:
                try:
                    changed_at = datetime.datetime.fromisoformat(updated).timestamp()
                except ValueError:
                    # An `updated` that sorts after the run's start but is no timestamp ("in_1"): no latency to
                    # measure. Raising here, after AEP accepted the batch, failed the run with a traceback.
                    continue
                report.record_latency(max(0.0, accepted_at - changed_at))


class RecordIds(Sequence[object]):
    """Each batch line's record id as the dead-letter file names it, built only when asked (a failed batch).

    A batch keeps one key a line: the Stripe id, or a tuple when the key has several properties (id and
    account), which costs a third of the dict the dead-letter entry shows.
    """

    def __init__(self, key_properties: Sequence[str], keys: list[object]) -> None:
        self._names = tuple(key_properties)
        self._keys = keys

    def __len__(self) -> int:
        return len(self._keys)

    @t.overload
    def __getitem__(self, index: int) -> object: ...
    @t.overload
    def __getitem__(self, index: slice) -> list[object]: ...
    def __getitem__(self, index: int | slice) -> object:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        key = self._keys[index]
        return dict(zip(self._names, key, strict=True)) if len(self._names) > 1 else key


class SkippedStreamSink(BatchSink):
    """A stream with nowhere to land (no ``datasets`` entry): counted, never sent, and its bookmark held back.

    Its first record is noted in ``TargetRuntime.undelivered``, which keeps every STATE the target writes from
    passing it (see ``target_aep.undelivered``): by default the run then fails at the end without writing STATE;
    with ``skip_streams_without_dataset`` the stream's bookmark stays where it was before its records. A stream
    whose SCHEMA arrives but that sends no record changes nothing.
    """

    def __init__(self, target: TargetAEP, stream_name: str, schema: dict, key_properties: t.Any) -> None:
        self._target_runtime: TargetRuntime = target.runtime
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)

    def get_validator(self) -> None:  # type: ignore[override]
        return None

    def _validate_and_parse(self, record: dict) -> dict:
        return record

    def _singer_validate_message(self, record: dict) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.logger.info("%s (harmless unless it sends records)", self._target_runtime.no_destination(self.stream_name))

    def process_record(self, record: dict, context: dict) -> None:
        runtime = self._target_runtime
        counts = runtime.report.streams[self.stream_name]
        counts.received += 1
        counts.skipped += 1
        if runtime.undelivered.record_received(self.stream_name):
            # Skipping on purpose: one warning per stream. Failing: the first stream warns at once that the run
            # will fail; the error at the end names every stream, so the others need no warning of their own.
            first = runtime.undelivered.streams == [self.stream_name]
            loud = runtime.skip_streams_without_dataset or first
            self.logger.log(logging.WARNING if loud else logging.INFO, runtime.skip_consequence(self.stream_name))

    def process_batch(self, context: dict) -> None:
        pass
