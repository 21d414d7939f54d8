"""target-aep: settings, sink choice, and the end-of-run report."""

from __future__ import annotations

import contextlib
import resource
import sys
import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import FrameType

from singer_sdk import Target
from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from singer_sdk.singerlib.exceptions import InvalidInputLine

from stripe_aep_shared.malloc_policy import keep_large_buffers_on_mmap
from stripe_aep_shared.number_settings import numbers_from_text
from target_aep.about_text import about_text
from target_aep.aep.errors import AEPError
from target_aep.dead_letter import DeadLetterPathError
from target_aep.gc_policy import fewer_collections
from target_aep.interruption import StopOnSignal
from target_aep.mapping_workers.pool import MappingPool, MappingWorkerError, default_worker_count
from target_aep.reader import AEPMessageReader
from target_aep.record_dispatch import RecordDispatch
from target_aep.run_report_files import ReportPathError, write_report_files
from target_aep.run_report_json import RunFacts, RunOutcome, build_document
from target_aep.runtime import TargetRuntime
from target_aep.schema_copy import JsonTreeSchema
from target_aep.settings import CONFIG_SCHEMA, semantic_errors
from target_aep.sinks import AEPSink, SkippedStreamSink
from target_aep.state_lag import StateLag, default_lag_seconds
from target_aep.xdm import MappingConfigError

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk.sinks import Sink


class RejectedShareExceededError(RuntimeError):
    """More records were rejected than ``max_rejected_share`` allows."""


class UndeliveredRecordsError(RuntimeError):
    """Records arrived for streams with no destination, and ``skip_streams_without_dataset`` is off."""


class UnsupportedMessageError(RuntimeError):
    """A Singer message type the target cannot deliver (it would otherwise be dropped silently)."""


EXPECTED_FAILURES = (
    AEPError,
    DeadLetterPathError,
    ReportPathError,
    InvalidInputLine,
    MappingConfigError,
    MappingWorkerError,
    RecordsWithoutSchemaException,
    RejectedShareExceededError,
    UndeliveredRecordsError,
    UnsupportedMessageError,
)


class TargetAEP(Target):
    """Singer target writing validated XDM to Adobe Experience Platform (batch or streaming)."""

    name = "target-aep"
    package_name = "tap-stripe-aep"  # the one distribution that installs both executables
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = AEPSink
    message_reader_class = AEPMessageReader
    # Capabilities offered are the ones that work here; a setting that does nothing would mislead:
    # - every record is validated against its dataset's XDM schema, always: that is the check AEP applies. The
    #   SDK's optional validation against the Singer schema (`validate_records`) is not offered, because the sinks
    #   skip it for speed (see AEPSink._validate_and_parse);
    # - schema flattening (`flattening_*`) would turn Stripe's nested objects into `address__city` keys that the
    #   XDM mapping does not read: those fields would silently stop reaching AEP.
    # Stream maps stay: the SDK applies them to each record before our sink (filters, dropped or hashed fields,
    # renamed streams), and the XDM mapping reads what they leave.
    capabilities: t.ClassVar[list] = [
        c for c in Target.capabilities if c not in (TargetCapabilities.VALIDATE_RECORDS, PluginCapabilities.FLATTENING)
    ]
    # Set by the command line (`invoke`): the process is the target's own, so a stop signal may end it
    # (`interruption.py`). A target built inside another program (the SDK's test suite) keeps the SDK's handling.
    _owns_process = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # Before super().__init__, which installs the handlers.
        self.stop_on_signal = StopOnSignal(self.logger, before_exit=self._report_interruption)
        self._runtime: TargetRuntime | None = None
        self.mapping_pool: MappingPool | None = None  # set for the run by `listen` (see `_mapping_workers`)
        super().__init__(*args, **kwargs)
        self._dispatch_record = RecordDispatch(self)
        self._runtime_lock = threading.Lock()
        self._started = time.perf_counter()
        self._started_epoch = time.time()
        self._started_monotonic = time.monotonic()
        self._input_ended = False
        self._input_done: float | None = None
        self._confirmed: float | None = None
        streaming = self.config.get("ingestion_mode", "batch") == "streaming" and not self.config.get("output_dir")
        lag = self.config.get("max_state_lag_seconds")
        self.state_lag = StateLag(float(lag) if lag else default_lag_seconds(streaming))
        if isinstance(self.message_reader, AEPMessageReader):
            self.message_reader.seconds_to_deadline = self.state_lag.seconds_to_flush
            self.message_reader.on_deadline = self._flush_state_on_time

    @property
    def runtime(self) -> TargetRuntime:
        """Clients, dead-letter file and report of this run (built on first use, after config checks)."""
        with self._runtime_lock:
            if self._runtime is None:
                self._runtime = TargetRuntime(self.config, self.drain_together)
                self._runtime.report.throughput.count_from(self._started_monotonic)
            return self._runtime

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; an expected failure ends with one clear error line and exit code 1, no traceback."""
        cls._owns_process = True
        try:
            super().invoke(*args, **kwargs)
        except EXPECTED_FAILURES as exc:
            cls.logger.error("target-aep stopped: %s", exc)
            cls.logger.error("No STATE was written past the records that were not confirmed; rerun from the last one.")
            sys.exit(1)

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """Advertise only the SDK built-ins that work here: those of our capabilities (stream maps).

        ``Target.append_builtin_config`` adds ``add_record_metadata``, ``load_method`` and ``batch_size_rows``
        whatever the capabilities, and none of them would do anything here: AEP datasets are appended to
        (``load_method: overwrite`` would be accepted and ignored), ``_sdc_*`` fields have no place in XDM, and
        the batch size is ``batch_max_records``. So the Target level is skipped on purpose; ``semantic_errors``
        refuses a config that sets one of them to something the target would not do.
        """
        super(Target, cls).append_builtin_config(config_jsonschema)

    @classmethod
    def print_about(cls, output_format: str | None = None) -> None:
        """``--about``: the plain text form also shows each setting's default and description."""
        if output_format in (None, "text"):
            print(about_text(cls._get_about_info()))  # the SDK prints --about the same way
            return
        super().print_about(output_format)

    def listen(self, file_input: t.IO[str] | None = None) -> None:
        """The whole run; whichever way it ends, the run report says so (``write_run_report``)."""
        keep_large_buffers_on_mmap()  # batches' buffers given back when delivered (`malloc_policy`)
        workers = self._mapping_workers()
        reader = self.message_reader if isinstance(self.message_reader, AEPMessageReader) else None
        # Forked here, before any thread of the run starts (`mapping_workers`). Without workers the pool still
        # gathers records in chunks, mapped here grouped by stream (`map_chunk`: the same output, a fifth less CPU).
        self.mapping_pool = MappingPool(workers)
        if isinstance(self.message_reader, AEPMessageReader):
            # RECORD lines go to the pool undecoded, their stream read from the line's head (`record_head`): a worker
            # decodes them, or without one the pool when it maps their chunk, one stream's lines in a row (`map_lines`:
            # a tenth less CPU for decoding the benchmark's interleaved input than line by line in input order).
            self.message_reader.on_record_line = self._process_record_line
        try:
            with fewer_collections():
                super().listen(file_input)
        except BaseException as exc:
            self.write_run_report(outcome_of(exc))
            raise
        finally:
            pool = self.mapping_pool
            if pool is not None:
                pool.close()
                main, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
                self.logger.info(
                    "mapping: %d records in %d worker process(es), %d in the main process (CPU: main process %.1f s, "
                    "workers %.1f s); input: %d reads, %d of them full (the writer waiting on the target, or a file)",
                    pool.mapped_by_workers,
                    workers,
                    pool.mapped_here,
                    main.ru_utime + main.ru_stime,
                    children.ru_utime + children.ru_stime,
                    *((reader.input_reads, reader.input_full) if reader is not None else (0, 0)),
                )
        self.write_run_report(RunOutcome.succeeded())

    def _mapping_workers(self) -> int:
        """Worker processes for the mapping: ``mapping_workers``, else one per core beside this one. None in
        streaming mode (latency, not throughput; its envelopes are built from the XDM object) and for a target
        built inside another program (it does not own the process: no child processes of its own)."""
        if not self._owns_process or (
            self.config.get("ingestion_mode", "batch") == "streaming" and not self.config.get("output_dir")
        ):
            return 0
        setting = self.config.get("mapping_workers")
        return default_worker_count() if setting is None else int(setting)

    def write_run_report(self, outcome: RunOutcome) -> None:
        """Write the HTML report and its JSON at ``report_path``; a run that never started (no runtime) has none.

        Writing it must not change how the run ends: a report that cannot be written is one error line.
        """
        runtime = self._runtime
        if runtime is None:
            return
        message = outcome.message
        for secret in runtime.secrets():
            message = message.replace(secret, "***")
        upload, processing = runtime.batch_timings()
        facts = RunFacts(
            mode="output_dir" if runtime.output_dir is not None else "streaming" if runtime.streaming else "batch",
            sandbox=str(self.config.get("sandbox_name") or "prod"),
            started_at=self._started_epoch,
            finished_at=time.time(),
            dead_letter_path=str(runtime.dead_letters.path),
            repairs_path=self.config.get("repairs_path") or None,
            input_seconds=None if self._input_done is None else self._input_done - self._started,
            confirm_seconds=(
                None if self._input_done is None or self._confirmed is None else self._confirmed - self._input_done
            ),
            batch_upload_seconds=upload,
            batch_processing_seconds=processing,
        )
        try:
            document = build_document(runtime.report, replace(outcome, message=message), facts)
            path = write_report_files(runtime.report_path, document)
        except Exception as exc:
            self.logger.error("The run report could not be written: %s: %s", type(exc).__name__, exc)
            return
        self.logger.info("Run report (%s, exit status %d): %s", outcome.status, outcome.exit_code, path)

    def _report_interruption(self, exit_code: int) -> None:
        self.write_run_report(
            RunOutcome(
                "interrupted",
                exit_code,
                "stopped by a signal: deliveries not yet confirmed were abandoned and no STATE line covers them "
                "(the next run sends them again)",
            )
        )

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT / SIGTERM: exit 130 / 143 now, writing no STATE (the SDK drains, then exits 0)."""
        if not self._owns_process:
            super()._handle_termination(signum, frame)
            return
        self.stop_on_signal.on_signal(signum)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The config the SDK holds (``_config``), before its schema check: number settings given as text by
        # Meltano or ``--config ENV`` become numbers (see ``number_settings``).
        numbers_from_text(self._config, self.config_jsonschema)
        errors = super()._validate_config(raise_errors=raise_errors)
        extra = semantic_errors(self.config)
        if extra and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=extra, schema=self.config_jsonschema)
        return errors + extra

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """Streams with nowhere to land get a sink that sends nothing and holds their bookmark back."""
        if self.runtime.destination_known(stream_name):
            return AEPSink
        return SkippedStreamSink

    def _process_state_message(self, message_dict: dict) -> None:
        before = self._latest_state
        super()._process_state_message(message_dict)
        if self._latest_state is not before:  # a new STATE (the SDK ignores one equal to the last)
            self.state_lag.state_received()
        # The bookmark a stream with no destination keeps is the one from the last STATE before its records.
        self.runtime.undelivered.saw_state(self._latest_state)

    def _process_batch_message(self, message_dict: dict) -> None:
        """BATCH messages are refused: the SDK would hand their records to ``process_batch`` unmapped, where
        they would be dropped while the STATE after them still advanced."""
        raise UnsupportedMessageError(
            f"a BATCH message arrived for stream '{message_dict.get('stream')}': target-aep maps and validates "
            "each RECORD and cannot read batch files; remove batch_config from the tap's settings"
        )

    def _write_state_message(self, state: dict) -> None:
        """Write STATE only once every delivery queued so far has been accepted by AEP.

        The SDK calls this at the end of ``drain_all``, after handing every sink's records to ``process_batch``;
        deliveries run in the background (``DeliveryQueue``), so this is where we wait for acceptance. A failed
        delivery raises here and no STATE line is written. At the end of input, a run over ``max_rejected_share``
        fails here too, before its final STATE: a failed run does not advance state, so once the cause of the
        rejects is fixed (a mapping override, the schema) the next run reads those records again.
        """
        if self.mapping_pool is not None:
            # Every record before this STATE is completed first: a line found malformed by a worker (or repeating
            # a key, `record_head`) fails the run here, before the STATE that would cover it.
            self.mapping_pool.complete_all()
        self.runtime.dataset_batches.hand_over()  # what this drain gathered by dataset goes to AEP now
        self.runtime.deliveries.wait_all()
        if self._input_ended:
            self._enforce_every_stream_delivered()
            self._enforce_rejected_share()
        safe_state = self._state_past_delivered_records_only(state)
        self.runtime.repairs.flush()  # every repair of the records this STATE covers is on disk first
        if safe_state is not None:
            with self.stop_on_signal.writing_state():
                super()._write_state_message(safe_state)
        waited = self.state_lag.state_written()
        if waited is not None and waited > self.state_lag.lag_seconds:
            self.logger.warning(
                "a STATE was written %.1f s after it arrived, over max_state_lag_seconds (%s): AEP took that long "
                "to confirm the records before it",
                waited,
                self.state_lag.lag_seconds,
            )

    def drain_all(self, *, is_endofpipe: bool = False) -> None:
        """The SDK's, with the batches of a dataset's streams handed over together as one AEP batch in batch mode
        (``dataset_batches``: AEP's guardrail asks for few large batches). The STATE the SDK writes at its end
        still waits for every one of them (``_write_state_message``)."""
        with self.runtime.dataset_batches.handover():
            super().drain_all(is_endofpipe=is_endofpipe)

    def _drain_all(self, sink_list: t.Iterable[Sink], parallelism: int) -> None:
        """The SDK's, on the standard library's thread pool instead of joblib's threading backend: the same
        ``drain_one`` per sink, ``parallelism`` at a time, the first failure (in sink order) raised once all have
        ended. So the target never imports joblib (with loky and psutil, about 0.05 s of every run's start-up;
        ``stripe_aep_shared.deferred_imports``)."""
        if parallelism == 1:
            for sink in sink_list:
                self.drain_one(sink)
            return
        with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="drain") as pool:
            for _ in pool.map(self.drain_one, sink_list):
                pass

    def drain_together(self, sinks: Sequence[Sink]) -> None:
        """Drain these sinks now, in one handover: in batch mode a dataset's streams go to AEP as one batch.

        For the shared buffer (``shared_buffer``): past its budget the dataset holding the most bytes drains
        whole, during the input, with no STATE written (as for a sink drained because it is full).
        """
        with self.runtime.dataset_batches.handover():
            for sink in sinks:
                self.drain_one(sink)

    def _flush_state_on_time(self) -> None:
        """A STATE has waited half of ``max_state_lag_seconds``: deliver everything, confirm, write it
        (``state_lag.py`` explains why the target does this itself instead of waiting for the SDK's drain)."""
        self.drain_all()

    def _state_past_delivered_records_only(self, state: dict) -> dict | None:
        """The STATE to write, or None: never one that passes a record that was not delivered.

        Streams that had records but no destination: by default no STATE at all once one record of them arrived
        (the run fails at the end of input); with ``skip_streams_without_dataset`` their bookmarks are held back
        (``UndeliveredStreams.held_back`` explains why that suits both Meltano and a shell pipe).
        """
        runtime = self.runtime
        if not runtime.undelivered:
            return state
        if not runtime.skip_streams_without_dataset:
            return None
        return runtime.undelivered.held_back(state, self._source_streams)

    def _source_streams(self, sink_stream: str) -> list[str]:
        """The tap streams whose records reach ``sink_stream``: itself, unless a stream map renamed or copied one."""
        stream_maps = self._mapper.stream_maps if self._mapper is not None else {}
        sources = [name for name, maps in stream_maps.items() if any(m.stream_alias == sink_stream for m in maps)]
        return sources or [sink_stream]

    def _enforce_every_stream_delivered(self) -> None:
        runtime = self.runtime
        if not runtime.undelivered or runtime.skip_streams_without_dataset:
            return
        streams = runtime.undelivered.streams
        where = "an entry in the datasets setting" if runtime.output_dir is None else "a schema (output_dir mode)"
        raise UndeliveredRecordsError(
            f"records arrived for {len(streams)} stream(s) without {where}: {', '.join(streams)}. They were not "
            "sent and no STATE was written, so a rerun reads them again. Add a datasets entry for each, deselect "
            "them in the tap, or set skip_streams_without_dataset to send the other streams and leave these "
            "streams' bookmarks where they were"
        )

    def _process_schema_message(self, message_dict: dict) -> None:
        """The SDK's, with the schema copied cheaply where the SDK deep-copies it (``schema_copy``)."""
        schema = message_dict.get("schema")
        if type(schema) is dict:
            message_dict["schema"] = JsonTreeSchema(schema)
        super()._process_schema_message(message_dict)

    def _process_record_message(self, message_dict: dict) -> None:
        """A failed delivery can also surface before the end of input: when a full sink hands over its next batch
        (``AEPSink.process_batch`` first waits for the stream's previous one). The run stops there; its report is
        logged first, as at the end of input, so what was counted (rows rejected by AEP too) is not lost."""
        try:
            if not self._dispatch_record(message_dict):  # the common case without the SDK's generic steps
                super()._process_record_message(message_dict)
        except AEPError:
            self._stop_on_delivery_failure()
            raise

    def _process_record_line(self, stream: str, line: bytes, line_number: int) -> bool:
        """A RECORD line the reader did not decode (`record_head`) to its sink's mapping workers, or False for
        the reader to decode it; a failed delivery surfacing here ends the run as in `_process_record_message`."""
        try:
            return self._dispatch_record.line(stream, line, line_number)
        except AEPError:
            self._stop_on_delivery_failure()
            raise

    def _stop_on_delivery_failure(self) -> None:
        runtime = self.runtime
        with contextlib.suppress(Exception):  # the failure raised after this is the one that ends the run
            runtime.deliveries.wait_all()  # other streams' batches in flight finish and are counted
        runtime.close()
        self._log_report(None)

    def process_endofpipe(self) -> None:
        """Drain and confirm every delivery (then the SDK writes state), enforce ``max_rejected_share``, report."""
        runtime = self.runtime
        input_done = self._input_done = time.perf_counter()
        self._input_ended = True
        try:
            super().process_endofpipe()
            runtime.deliveries.wait_all()  # also when the input had no STATE message
            self._confirmed = time.perf_counter()
            self._enforce_every_stream_delivered()
            self._enforce_rejected_share()
        finally:
            runtime.close()
            self._log_report(input_done)

    def _enforce_rejected_share(self) -> None:
        share = self.runtime.report.rejected_share()
        limit = float(self.config.get("max_rejected_share", 1.0))
        if share > limit:
            raise RejectedShareExceededError(
                f"{share:.1%} of records were rejected, over max_rejected_share {limit:.1%}; "
                f"see {self.runtime.dead_letters.path}"
            )

    def _log_report(self, input_done: float | None) -> None:
        """Counts per stream, unplaced fields and rejects: logged whether the run succeeded or not.

        ``input_done`` is when the input ended, or None for a run stopped before.
        """
        runtime = self.runtime
        if input_done is not None:
            self.logger.info(
                "input read in %.2f s; every delivery confirmed %.2f s after the end of input",
                input_done - self._started,
                time.perf_counter() - input_done,
            )
        for line in runtime.report.summary_lines():
            self.logger.info(line)
        for sink in self._sinks_active.values():
            mapper = getattr(sink, "mapper", None)
            unplaced = sorted(mapper.unplaced_fields()) if mapper is not None else []
            if unplaced:
                self.logger.info(
                    "stream %s: fields with no place in XDM (not sent): %s", sink.stream_name, ", ".join(unplaced)
                )
        for name, counts in sorted(runtime.report.streams.items()):
            if counts.all_rejected:
                self.logger.warning(
                    "stream %s: all %d records were rejected, the first because: %s. That is a configuration "
                    "problem (the XDM mapping or the dataset's schema), not bad data: fix the mapping or schema "
                    "(docs/xdm-mapping.md) and rerun; details in %s",
                    name,
                    counts.received,
                    counts.first_reject_reason,
                    runtime.dead_letters.path,
                )
        if runtime.report.rejected:
            self.logger.warning("%d records were rejected; see %s", runtime.report.rejected, runtime.dead_letters.path)
        if runtime.report.rejected_by_aep:
            self.logger.warning(
                "%d rows were rejected by AEP in failed batches; see %s",
                runtime.report.rejected_by_aep,
                runtime.dead_letters.path,
            )


def outcome_of(exc: BaseException) -> RunOutcome:
    """How a run that raised ``exc`` ends: the exit status ``invoke`` (or Python) gives it, and why."""
    if isinstance(exc, KeyboardInterrupt):
        return RunOutcome("interrupted", 130, "interrupted (KeyboardInterrupt)")
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return RunOutcome("succeeded" if code == 0 else "failed", code, "" if code == 0 else str(exc.code))
    if isinstance(exc, EXPECTED_FAILURES):
        return RunOutcome("failed", 1, str(exc))
    return RunOutcome("failed", 1, f"unexpected error {type(exc).__name__}: {exc} (traceback in the log)")


if __name__ == "__main__":
    TargetAEP.cli()
