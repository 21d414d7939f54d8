"""target-aep: settings, sink choice, and the end-of-run report."""

from __future__ import annotations

import sys
import threading
import time
import typing as t
from types import FrameType

from singer_sdk import Target
from singer_sdk.exceptions import ConfigValidationError, RecordsWithoutSchemaException
from singer_sdk.helpers.capabilities import TargetCapabilities
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_aep.aep.errors import AEPError
from target_aep.dead_letter import DeadLetterPathError
from target_aep.interruption import StopOnSignal
from target_aep.reader import AEPMessageReader
from target_aep.runtime import TargetRuntime
from target_aep.settings import CONFIG_SCHEMA, semantic_errors
from target_aep.sinks import AEPSink, SkippedStreamSink
from target_aep.xdm import MappingConfigError

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink


class RejectedShareExceededError(RuntimeError):
    """More records were rejected than ``max_rejected_share`` allows."""


EXPECTED_FAILURES = (
    AEPError,
    DeadLetterPathError,
    InvalidInputLine,
    MappingConfigError,
    RecordsWithoutSchemaException,
    RejectedShareExceededError,
)


class TargetAEP(Target):
    """Singer target writing validated XDM to Adobe Experience Platform (batch or streaming)."""

    name = "target-aep"
    package_name = "tap-stripe-aep"  # the one distribution that installs both executables
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = AEPSink
    message_reader_class = AEPMessageReader
    # Every record is validated against its dataset's XDM schema, always: that is the check AEP applies. The
    # SDK's optional validation against the Singer schema (`validate_records`) is not offered, because the sinks
    # skip it for speed (see AEPSink._validate_and_parse) and a setting that does nothing would mislead.
    capabilities: t.ClassVar[list] = [c for c in Target.capabilities if c != TargetCapabilities.VALIDATE_RECORDS]
    # Set by the command line (`invoke`): the process is the target's own, so a stop signal may end it
    # (`interruption.py`). A target built inside another program (the SDK's test suite) keeps the SDK's handling.
    _owns_process = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.stop_on_signal = StopOnSignal(self.logger)  # before super().__init__, which installs the handlers
        super().__init__(*args, **kwargs)
        self._runtime: TargetRuntime | None = None
        self._runtime_lock = threading.Lock()
        self._started = time.perf_counter()
        self._input_ended = False

    @property
    def runtime(self) -> TargetRuntime:
        """Clients, dead-letter file and report of this run (built on first use, after config checks)."""
        with self._runtime_lock:
            if self._runtime is None:
                self._runtime = TargetRuntime(self.config)
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

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT / SIGTERM: exit 130 / 143 now, writing no STATE (the SDK drains, then exits 0)."""
        if not self._owns_process:
            super()._handle_termination(signum, frame)
            return
        self.stop_on_signal.on_signal(signum)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        extra = semantic_errors(self.config)
        if extra and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=extra, schema=self.config_jsonschema)
        return errors + extra

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """Streams with nowhere to land are skipped with one warning (see ``TargetRuntime.destination_known``)."""
        if self.runtime.destination_known(stream_name):
            return AEPSink
        return SkippedStreamSink

    def _write_state_message(self, state: dict) -> None:
        """Write STATE only once every delivery queued so far has been accepted by AEP.

        The SDK calls this at the end of ``drain_all``, after handing every sink's records to ``process_batch``;
        deliveries run in the background (``DeliveryQueue``), so this is where we wait for acceptance. A failed
        delivery raises here and no STATE line is written. At the end of input, a run over ``max_rejected_share``
        fails here too, before its final STATE: a failed run does not advance state, so once the cause of the
        rejects is fixed (a mapping override, the schema) the next run reads those records again.
        """
        self.runtime.deliveries.wait_all()
        if self._input_ended:
            self._enforce_rejected_share()
        with self.stop_on_signal.writing_state():
            super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        """Drain and confirm every delivery (then the SDK writes state), enforce ``max_rejected_share``, report."""
        runtime = self.runtime
        input_done = time.perf_counter()
        self._input_ended = True
        try:
            super().process_endofpipe()
            runtime.deliveries.wait_all()  # also when the input had no STATE message
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

    def _log_report(self, input_done: float) -> None:
        """Counts per stream, unplaced fields and rejects: logged whether the run succeeded or not."""
        runtime = self.runtime
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
        if runtime.report.rejected:
            self.logger.warning("%d records were rejected; see %s", runtime.report.rejected, runtime.dead_letters.path)


if __name__ == "__main__":
    TargetAEP.cli()
