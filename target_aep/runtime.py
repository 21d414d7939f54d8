"""What one run shares between sinks: AEP clients, resolved datasets, the dead-letter file and the report.

Clients are built on first use, after config validation, so ``--about`` and bad configs never touch the network.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from target_aep.aep.batch_ingestion import FILE_MAX_BYTES, BatchIngestion
from target_aep.aep.catalog import Catalog, DatasetTarget
from target_aep.aep.errors import BatchFailedError
from target_aep.aep.gateway import PlatformGateway
from target_aep.aep.ims import IMSTokenProvider
from target_aep.aep.row_errors import RowErrorReader
from target_aep.aep.streaming import StreamingIngestion, StreamingRejection
from target_aep.dataset_batches import DatasetBatches, StreamPart, named_files
from target_aep.dead_letter import DeadLetterFile
from target_aep.delivery_queue import BATCH_WORKERS, DEFAULT_WORKERS, DeliveryQueue
from target_aep.line_batch import LineBatch
from target_aep.mapping_workers.worker import MapperArgs
from target_aep.refused_rows import trace_refused_rows
from target_aep.repairs_file import RepairsFile
from target_aep.report import RunReport
from target_aep.run_report_files import check_report_paths
from target_aep.shared_buffer import SharedBuffer
from target_aep.sinks import DEFAULT_BATCH_MAX_BYTES
from target_aep.undelivered import UndeliveredStreams
from target_aep.xdm import XdmMapper

ANY_STREAM = "*"  # a local_schemas key that applies to every stream without its own entry
DEFAULT_SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"


@dataclass(frozen=True)
class Destination:
    """Where one stream's XDM goes: a dataset on the Platform, or a local file in ``output_dir`` mode."""

    stream: str
    dataset: DatasetTarget | None  # None: output_dir mode with a local schema file
    output_path: Path | None  # set in output_dir mode
    schema: dict  # the dataset's XDM schema (xed-full): the mapping and the validation follow it


class TargetRuntime:
    """Run-wide state; thread-safe where sinks call it from drain threads."""

    def __init__(
        self, config: t.Mapping[str, t.Any], drain_together: t.Callable[[t.Sequence[t.Any]], None] | None = None
    ) -> None:
        """``drain_together`` drains sinks in one handover (``TargetAEP.drain_together``), for the shared buffer."""
        self.config = config
        self.report = RunReport()
        # Records changed after this instant are live changes: their latency to AEP goes into the report.
        self.started_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.dead_letters = DeadLetterFile(config.get("dead_letter_path") or "target-aep-rejected.jsonl", self.secrets)
        self.dead_letters.check_writable()  # before any request: see DeadLetterFile.check_writable
        self.report_path: str | None = config.get("report_path") or None
        check_report_paths(self.report_path)  # before any request, like the dead-letter file
        self.report.start_sampling()
        self.repairs = RepairsFile(config.get("repairs_path") or "target-aep-repairs.jsonl", self.secrets)
        self.repairs.check_writable()
        batch_max_bytes = int(config.get("batch_max_bytes") or DEFAULT_BATCH_MAX_BYTES)
        self.deliveries = self._delivery_queue(batch_max_bytes)
        # Batch mode: a drain's batches of one dataset's streams go to AEP as one batch (dataset_batches.py).
        self.dataset_batches = DatasetBatches(self.deliveries, self.send_batch, batch_max_bytes)
        self.undelivered = UndeliveredStreams()
        # Every AEPSink of the run: they share one buffer budget, past which the fullest dataset drains.
        self.shared_buffer = SharedBuffer(
            drain_together or _no_sinks_to_drain, batch_max_bytes - DEFAULT_BATCH_MAX_BYTES
        )
        self._lock = threading.Lock()
        self._file_locks: dict[Path, threading.Lock] = {}
        self._tenant_id: str | None = config.get("tenant_id") or None
        self._datasets_checked = False
        # Local schema files read once each: streams sharing a file share its schema (and so its compiled tree).
        self._local_schemas: dict[str, dict] = {}
        self._ims: IMSTokenProvider | None = None
        self._gateway: PlatformGateway | None = None
        self._catalog: Catalog | None = None
        self._batch: BatchIngestion | None = None
        self._row_errors: RowErrorReader | None = None
        self._streaming: StreamingIngestion | None = None

    # -- configuration views

    def _delivery_queue(self, batch_max_bytes: int) -> DeliveryQueue:
        """Batch Ingestion: more deliveries side by side within today's memory bound (``delivery_queue``)."""
        if self.output_dir is not None or self.streaming:
            return DeliveryQueue()
        return DeliveryQueue(BATCH_WORKERS, max_bytes=DEFAULT_WORKERS * batch_max_bytes)

    @property
    def output_dir(self) -> Path | None:
        value = self.config.get("output_dir")
        return Path(value) if value else None

    @property
    def has_credentials(self) -> bool:
        return bool(self.config.get("client_id"))

    @property
    def streaming(self) -> bool:
        return self.config.get("ingestion_mode", "batch") == "streaming" and self.output_dir is None

    def dataset_setting(self, stream: str) -> dict | None:
        """The ``datasets`` entry for a stream, or None when the stream is not configured."""
        entry = (self.config.get("datasets") or {}).get(stream)
        return dict(entry) if entry else None

    def destination_known(self, stream: str) -> bool:
        """Whether ``stream`` has somewhere to land (without any request)."""
        entry = self.dataset_setting(stream)
        if self.output_dir is None:
            return entry is not None
        local = self.config.get("local_schemas") or {}
        if local.get(stream) or local.get(ANY_STREAM):
            return True
        return bool(entry and (local.get(entry["dataset_id"]) or self.has_credentials))

    @property
    def skip_streams_without_dataset(self) -> bool:
        """Whether records of a stream with no destination are skipped (bookmark held back) instead of failing."""
        return bool(self.config.get("skip_streams_without_dataset", False))

    def no_destination(self, stream: str) -> str:
        """Why ``stream`` has nowhere to land, naming the setting to change."""
        if self.output_dir is None:
            return f"Stream '{stream}' has no entry in the datasets setting"
        return (
            f"Stream '{stream}' has no schema in output_dir mode (no local_schemas entry, and no dataset to read "
            "one from with client_id)"
        )

    def skip_consequence(self, stream: str) -> str:
        """What happens to the records of a stream with no destination (logged at its first record)."""
        if self.skip_streams_without_dataset:
            return (
                f"{self.no_destination(stream)}: its records are not sent and its bookmark is not advanced "
                "(skip_streams_without_dataset), so a later run reads them again"
            )
        return (
            f"{self.no_destination(stream)} but sends records: they are not sent, and the run will fail at the end "
            "without writing any STATE"
        )

    def secrets(self) -> list[str]:
        """Every value that must never reach a log, state or dead-letter line."""
        values = [self.config.get("client_secret") or ""]
        if self._ims is not None:
            values += self._ims.secrets
        return [v for v in values if v]

    # -- AEP clients

    @property
    def gateway(self) -> PlatformGateway:
        with self._lock:
            if self._gateway is None:
                timeout = float(self.config.get("request_timeout_seconds", 60))
                self._ims = IMSTokenProvider(
                    ims_url=self.config.get("ims_url") or "https://ims-na1.adobelogin.com",
                    client_id=self.config["client_id"],
                    client_secret=self.config.get("client_secret") or "",
                    scopes=self.config.get("scopes") or DEFAULT_SCOPES,
                    timeout=timeout,
                )
                self._gateway = PlatformGateway(
                    platform_url=self.config.get("platform_url") or "https://platform.adobe.io",
                    ims=self._ims,
                    client_id=self.config["client_id"],
                    org_id=self.config.get("org_id") or "",
                    sandbox_name=self.config.get("sandbox_name") or "prod",
                    timeout=timeout,
                )
                self._catalog = Catalog(self._gateway)
                self._batch = BatchIngestion(
                    self._gateway, poll_timeout_seconds=float(self.config.get("poll_timeout_seconds", 3600))
                )
                self._row_errors = RowErrorReader(self._gateway)
                self._streaming = StreamingIngestion(
                    self._gateway,
                    streaming_url=self.config.get("streaming_url") or "https://dcs.adobedc.net",
                    org_id=self.config.get("org_id") or "",
                )
            return self._gateway

    def tenant_id(self) -> str:
        """The configured tenant, else the Schema Registry's (asked once)."""
        if self._tenant_id is None:
            self.gateway  # noqa: B018 - builds the clients
            assert self._catalog is not None
            self._tenant_id = self._catalog.tenant_id()
        return self._tenant_id

    def destination(self, stream: str) -> Destination | None:
        """Resolve where ``stream`` lands and the XDM schema it is mapped to; None: skip the stream.

        Platform modes read the schema from the Schema Registry. ``output_dir`` mode reads it from
        ``local_schemas`` (by stream, then by dataset id) and falls back to the registry when credentials are set.
        """
        entry = self.dataset_setting(stream)
        output_dir = self.output_dir
        if output_dir is None:
            self._check_every_dataset_once()
            if entry is None:
                return None
            dataset = self._dataset_target(stream, entry)
            return Destination(stream, dataset, None, dataset.schema)
        local = self.config.get("local_schemas") or {}
        schema_path = local.get(stream) or (local.get(entry["dataset_id"]) if entry else None) or local.get(ANY_STREAM)
        name = entry["dataset_id"] if entry else stream
        if schema_path:
            schema = self._local_schemas.get(schema_path)
            if schema is None:
                schema = self._local_schemas[schema_path] = json.loads(Path(schema_path).read_text(encoding="utf-8"))
            return Destination(stream, None, output_dir / f"{name}.jsonl", schema)
        if entry and self.has_credentials:
            dataset = self._dataset_target(stream, entry)
            return Destination(stream, dataset, output_dir / f"{name}.jsonl", dataset.schema)
        return None

    def _check_every_dataset_once(self) -> None:
        """At the first stream, resolve every configured dataset and check every ``mappings`` override against
        its schema, so a wrong dataset id or override fails before anything is sent."""
        with self._lock:
            if self._datasets_checked:
                return
            self._datasets_checked = True
        overrides = self.config.get("mappings") or {}
        for name, entry in (self.config.get("datasets") or {}).items():
            dataset = self._dataset_target(name, dict(entry))
            if name in overrides:
                self.mapper(name, dataset.schema)

    def mapper_args(self, stream: str, schema: dict) -> MapperArgs:
        """What builds the stream's XDM mapper for a dataset schema (also in a mapping worker)."""
        return MapperArgs(
            stream,
            schema,
            tenant_id=self.tenant_id(),
            identity_namespace=self.config.get("customer_identity_namespace") or "StripeCustomerId",
            override=(self.config.get("mappings") or {}).get(stream),
        )

    def mapper(self, stream: str, schema: dict) -> XdmMapper:
        """The stream's XDM mapper for a dataset schema, with its ``mappings`` override (checked here)."""
        return self.mapper_args(stream, schema).build_mapper()

    def _dataset_target(self, stream: str, entry: dict) -> DatasetTarget:
        self.gateway  # noqa: B018 - builds the clients
        assert self._catalog is not None
        return self._catalog.dataset_target(stream, entry["dataset_id"], entry.get("inlet_id"))

    # -- delivery: each call returns only once the records are accepted (see sinks.AEPSink.process_batch)

    def write_local(self, path: Path, lines: t.Sequence[bytes]) -> None:
        """Write JSON lines to an output_dir file; streams sharing a dataset share the file.

        A run starts each file afresh and appends to it afterwards, so the files hold exactly this run's
        records: re-running a dry run does not double them.
        """
        with self._lock:
            first_write = path not in self._file_locks
            lock = self._file_locks.setdefault(path, threading.Lock())
            # Under self._lock, so that a second sink sharing the file cannot append before it is truncated.
            if first_write:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"")
        with lock, path.open("ab") as handle:
            if isinstance(lines, LineBatch):
                lines.write_to(handle)
                return
            for line in lines:
                handle.write(line)
                handle.write(b"\n")

    def send_batch(self, dataset: DatasetTarget, parts: t.Sequence[StreamPart]) -> str:
        """One AEP batch of the streams' lines, each stream in its own JSON-lines files (split under the file
        limit); returns once it is ``success``.

        A failed batch raises ``BatchFailedError`` once each row AEP refused is in the dead-letter file under its
        stream and Stripe id, and every stream it carried counts its records as in a failed batch: see
        ``refused_rows``.
        """
        self.gateway  # noqa: B018
        assert self._batch is not None and self._row_errors is not None
        files, part_of_file = named_files(parts, FILE_MAX_BYTES)
        streams = {part.stream: len(part.lines) for part in parts}
        started = time.perf_counter()
        try:
            batch_id = self._batch.ingest(dataset.dataset_id, files)
        except BatchFailedError as failed:
            self.report.record_batch(streams, dataset.dataset_id, failed.batch_id, failed.status)
            trace_refused_rows(
                failed,
                parts=parts,
                part_of_file=part_of_file,
                reader=self._row_errors,
                dead_letters=self.dead_letters,
                report=self.report,
            )
            raise
        finally:
            self.report.add_seconds("http", time.perf_counter() - started)
        self.report.record_batch(streams, dataset.dataset_id, batch_id, "success")
        return batch_id

    def batch_timings(self) -> tuple[float, float]:
        """Seconds spent uploading batches and waiting for AEP to process them, over the run."""
        if self._batch is None:
            return 0.0, 0.0
        return self._batch.timings.upload_seconds, self._batch.timings.processing_seconds

    def envelope(self, dataset: DatasetTarget, xdm: dict) -> bytes:
        self.gateway  # noqa: B018
        assert self._streaming is not None
        return self._streaming.envelope(dataset, xdm)

    def send_streaming(self, dataset: DatasetTarget, envelopes: t.Sequence[bytes]) -> list[StreamingRejection]:
        """Stream envelopes to the dataset's inlet; returns once each is accepted or rejected for good."""
        self.gateway  # noqa: B018
        assert self._streaming is not None
        started = time.perf_counter()
        try:
            return self._streaming.send(dataset, envelopes)
        finally:
            self.report.add_seconds("http", time.perf_counter() - started)

    def close(self) -> None:
        self.report.stop_sampling()
        self.deliveries.shutdown()
        self.dead_letters.close()
        self.repairs.close()


def _no_sinks_to_drain(sinks: t.Sequence[t.Any]) -> None:
    """A runtime built outside a target (tests of the AEP clients) has no sinks, so nothing to drain."""
    if sinks:
        raise RuntimeError("a TargetRuntime with sinks needs the target's drain_together")
