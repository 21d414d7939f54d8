"""Batch Ingestion API and the Catalog's batch objects: create, upload, COMPLETE/ABORT, then validate and land.

A completed batch is validated row by row against its dataset's current schema.
- All rows valid: ``success``; the rows land in ``STORE/<dataset_id>/<batch_id>.jsonl``.
- Some rows invalid, ``partialIngestionPercentage`` set and not exceeded: ``success``; the valid rows land, and
  ``errors`` says how many failed (``INGEST-1212-400``, then one entry per error code).
- Otherwise ``failed`` and nothing lands. With ``enableErrorDiagnostics`` the ``errors`` list the failing rows per
  code (``rows``: 1-based, counted across the batch's files in upload order); without it, Platform only answers
  ``INGEST-1211-400`` ("resend with error diagnostics enabled").
Rows the test-control rules of ``row_refusals.py`` refuse fail the same way, as validation failures.
With diagnostics on, every failed row is kept for the Data Access API (``data_access.py``): the line as sent
(``_corrupt_record``) with Platform's codes and messages.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.aep.catalog import Catalog
from emulators.aep.config import CLIENT_ID, ORG_ID
from emulators.aep.faults import FaultPlan, Stats
from emulators.aep.replies import Reply, problem
from emulators.aep.row_errors import RowError, diagnosed_errors, row_error_for_violations, unparseable_row_error
from emulators.aep.row_refusals import RowRefusal, RowRefusals
from emulators.aep.store import LandingStore

_CREATE_KEYS = {
    "datasetId",
    "inputFormat",
    "externalId",
    "replay",
    "tags",
    "enableErrorDiagnostics",
    "partialIngestionPercentage",
}
_UNDIAGNOSED = {
    "code": "INGEST-1211-400",
    "description": "Encountered errors while parsing, converting or otherwise validating the data. Please resend the "
    "data with error diagnostics enabled to collect additional information on failure types",
}


@dataclass
class Batch:
    id: str
    sandbox: str
    catalog: Catalog
    dataset_id: str
    multi_line: bool
    created_ms: int
    diagnostics: bool = False
    partial_percent: float | None = None
    external_id: str | None = None
    status: str = "loading"
    updated_ms: int = 0
    started_ms: int | None = None
    completed_ms: int | None = None
    files: dict[str, Path] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    row_errors: list[RowError] = field(default_factory=list)


class BatchRejected(Exception):
    """A batch fails as a whole, with errors in Platform's ``{code, description, ...}`` shape."""

    def __init__(self, errors: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
        super().__init__(errors[0]["description"] if errors else "batch failed")
        self.errors = errors
        self.metrics = metrics


def _now_ms() -> int:
    return int(time.time() * 1000)


class BatchService:
    def __init__(self, store: LandingStore, faults: FaultPlan, stats: Stats, refusals: RowRefusals) -> None:
        self._store = store
        self._refusals = refusals
        self._faults = faults
        self._stats = stats
        self._batches: dict[str, Batch] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch")

    # --- Batch Ingestion API -------------------------------------------------------------------------------

    def create(self, sandbox: str, catalog: Catalog, body: Any) -> Reply:
        """``POST /data/foundation/import/batches`` in one sandbox."""
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "the request body must be a JSON object")
        unknown = sorted(set(body) - _CREATE_KEYS)
        if unknown:
            return problem(400, "Bad Request", f"unknown batch attribute(s): {unknown}")
        dataset_id = body.get("datasetId")
        if not isinstance(dataset_id, str) or catalog.dataset(dataset_id) is None:
            return problem(400, "Bad Request", f"datasetId {dataset_id!r} is not a known dataset")
        input_format = body.get("inputFormat")
        if not isinstance(input_format, dict) or str(input_format.get("format", "")).lower() != "json":
            return problem(400, "Bad Request", 'inputFormat.format must be "json" (the only format emulated)')
        diagnostics = body.get("enableErrorDiagnostics", False)
        if not isinstance(diagnostics, bool):
            return problem(400, "Bad Request", "enableErrorDiagnostics must be a boolean")
        partial = body.get("partialIngestionPercentage")
        if partial is not None and (
            isinstance(partial, bool) or not isinstance(partial, int | float) or not 0 <= partial <= 100
        ):
            return problem(400, "Bad Request", "partialIngestionPercentage must be a number from 0 to 100")
        now = _now_ms()
        batch = Batch(
            uuid.uuid4().hex,
            sandbox,
            catalog,
            dataset_id,
            bool(input_format.get("isMultiLineJson")),
            now,
            # Platform enforces error diagnostics whenever partial ingestion is on
            diagnostics=diagnostics or partial is not None,
            partial_percent=None if partial is None else float(partial),
            external_id=body.get("externalId") if isinstance(body.get("externalId"), str) else None,
            updated_ms=now,
        )
        with self._lock:
            self._batches[batch.id] = batch
        self._stats.count("batches_created")
        return Reply(201, self._describe(batch)[batch.id])

    def check_upload(self, sandbox: str, batch_id: str, dataset_id: str, file_name: str) -> Reply | Path:
        """Before a ``PUT .../files/{name}`` body is read: where to write it, or why not."""
        if not file_name or "/" in file_name or file_name.startswith("."):
            return problem(400, "Bad Request", f"invalid file name {file_name!r}")
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.sandbox != sandbox:
                return problem(404, "Not Found", f"batch {batch_id} does not exist")
            if batch.dataset_id != dataset_id:
                return problem(400, "Bad Request", f"batch {batch_id} belongs to dataset {batch.dataset_id}")
            if batch.status != "loading":
                return problem(400, "Bad Request", f"batch {batch_id} is {batch.status}, not loading")
        return self._store.uploads_dir(batch_id) / file_name

    def finish_upload(self, batch_id: str, file_name: str, path: Path, size: int) -> Reply:
        with self._lock:
            batch = self._batches[batch_id]
            if batch.status != "loading":
                return problem(400, "Bad Request", f"batch {batch_id} was {batch.status} before the upload ended")
            batch.files[file_name] = path
            batch.updated_ms = _now_ms()
        self._stats.count("batch_files_uploaded")
        self._stats.count("batch_bytes_uploaded", size)
        return Reply(200)

    def act(self, sandbox: str, batch_id: str, action: str) -> Reply:
        """``POST /data/foundation/import/batches/{id}?action=COMPLETE|ABORT``."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.sandbox != sandbox:
                return problem(404, "Not Found", f"batch {batch_id} does not exist")
            if action == "COMPLETE":
                if batch.status == "aborted":
                    return problem(400, "Bad Request", f"batch {batch_id} was aborted")
                if batch.status != "loading":
                    return Reply(200)  # idempotent: already accepted
                batch.status = "processing"
                batch.updated_ms = batch.started_ms = _now_ms()
            elif action == "ABORT":
                if batch.status in ("loading", "aborted"):
                    batch.status = "aborted"
                    batch.updated_ms = _now_ms()
                    self._stats.count("batches_aborted")
                    return Reply(200)
                return problem(400, "Bad Request", f"batch {batch_id} is {batch.status} and cannot be aborted")
            else:
                return problem(400, "Bad Request", f"unknown action {action!r}: use COMPLETE or ABORT")
        forced_failure = self._faults.take_batch_failure()
        self._workers.submit(self._process, batch, forced_failure, time.monotonic())
        return Reply(200)

    # --- Catalog and Data Access ------------------------------------------------------------------------------

    def batch(self, sandbox: str, batch_id: str) -> Batch | None:
        with self._lock:
            batch = self._batches.get(batch_id)
            return batch if batch is not None and batch.sandbox == sandbox else None

    def catalog_body(self, sandbox: str, batch_id: str) -> Reply:
        """``GET /data/foundation/catalog/batches/{id}``: the batch keyed by its id."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None or batch.sandbox != sandbox:
                return problem(404, "Not Found", f"batch {batch_id} does not exist")
            return Reply(200, self._describe(batch))

    def counts_by_status(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for batch in self._batches.values():
                counts[batch.status] = counts.get(batch.status, 0) + 1
            return counts

    @staticmethod
    def _describe(batch: Batch) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": batch.id,
            "externalId": batch.external_id or batch.id,
            "imsOrg": ORG_ID,
            "status": batch.status,
            "created": batch.created_ms,
            "updated": batch.updated_ms,
            "createdClient": CLIENT_ID,
            "createdUser": f"{CLIENT_ID}@AdobeID",
            "updatedUser": f"{CLIENT_ID}@AdobeID",
            "relatedObjects": [{"type": "dataSet", "id": batch.dataset_id}],
            "inputFormat": {"format": "json", "isMultiLineJson": batch.multi_line},
            "version": "1.0.0",
            "tags": {},
            "metrics": dict(batch.metrics),
        }
        if batch.diagnostics:
            body["tags"]["acp_enableErrorDiagnostics"] = True
        if batch.partial_percent is not None:
            body["tags"]["acp_partialIngestionPercent"] = batch.partial_percent
        if batch.started_ms is not None:
            body["started"] = batch.started_ms
        if batch.completed_ms is not None:
            body["completed"] = batch.completed_ms
        if batch.errors:
            body["errors"] = list(batch.errors)
        return {batch.id: body}

    # --- processing -------------------------------------------------------------------------------------------

    def _process(self, batch: Batch, forced_failure: bool, accepted_at: float) -> None:
        row_errors: list[RowError] = []
        try:
            if forced_failure:
                raise BatchRejected(
                    [{"code": "EMULATED_FAILURE", "description": "failed on purpose (fail_next_batches)", "rows": []}],
                    {"inputRecordCount": 0, "outputRecordCount": 0},
                )
            if not batch.files:
                raise BatchRejected(
                    [{"code": "EMPTY_BATCH", "description": "the batch was completed with no files", "rows": []}],
                    {"inputRecordCount": 0, "outputRecordCount": 0},
                )
            outcome, errors, metrics, row_errors = self._validate_and_land(batch)
        except BatchRejected as rejected:
            outcome, errors, metrics = "failed", rejected.errors, rejected.metrics
        except Exception as unexpected:  # never leave a batch stuck in processing
            outcome, metrics = "failed", {"inputRecordCount": 0, "outputRecordCount": 0}
            errors = [{"code": "EMULATOR_ERROR", "description": repr(unexpected), "rows": []}]
        remaining = self._faults.batch_processing_ms / 1000 - (time.monotonic() - accepted_at)
        if remaining > 0:
            time.sleep(remaining)
        with self._lock:
            batch.status, batch.errors, batch.metrics = outcome, errors, metrics
            batch.row_errors = row_errors if batch.diagnostics else []
            batch.updated_ms = batch.completed_ms = _now_ms()
        self._stats.count(f"batches_{outcome}")

    def _validate_and_land(self, batch: Batch) -> tuple[str, list[dict[str, Any]], dict[str, Any], list[RowError]]:
        """Valid rows stream into the landing file (no parsed rows are kept); it is kept only if the batch succeeds."""
        validator = batch.catalog.validator(batch.dataset_id)
        refusals = self._refusals.for_dataset(batch.dataset_id)
        landing = self._store.begin(batch.dataset_id, batch.id)
        row_errors: list[RowError] = []
        total = 0
        try:
            for file_name, path in batch.files.items():
                for _row_number, line, row in _rows(path, batch.multi_line):
                    total += 1
                    if isinstance(row, _Unparseable):
                        row_errors.append(unparseable_row_error(file_name, total, line or b"", row.reason))
                    elif not validator.is_valid(row):
                        raw = line if line is not None else json.dumps(row).encode()
                        row_errors.append(row_error_for_violations(file_name, total, raw, validator.violations(row)))
                    elif refusals and (verdict := _refusal(refusals, row)) is not None:
                        raw = line if line is not None else json.dumps(row).encode()
                        row_errors.append(RowError(file_name, total, raw, (verdict,), "validation"))
                    elif line is not None:
                        landing.write_line(line)
                    else:
                        landing.write_record(row)
        except BaseException:
            landing.discard()
            raise
        self._stats.count("batch_rows_validated", total)
        failed = len(row_errors)
        metrics = {
            "inputFileCount": len(batch.files),
            "inputRecordCount": total,
            "outputRecordCount": total - failed,
            "failedRecordCount": failed,
        }
        partial_ok = batch.partial_percent is not None and failed * 100 <= batch.partial_percent * total
        if failed and not partial_ok:
            landing.discard()
            errors = diagnosed_errors(row_errors, landed=None) if batch.diagnostics else [dict(_UNDIAGNOSED)]
            return "failed", errors, {**metrics, "outputRecordCount": 0}, row_errors
        written = landing.commit()
        self._stats.landed(batch.dataset_id, written)
        errors = diagnosed_errors(row_errors, landed=written) if failed else []
        return "success", errors, metrics, row_errors


def _refusal(refusals: tuple[RowRefusal, ...], row: Any) -> tuple[str, str] | None:
    for refusal in refusals:
        verdict = refusal.verdict(row)
        if verdict is not None:
            return verdict
    return None


class _Unparseable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _rows(path: Path, multi_line: bool) -> Iterator[tuple[int, bytes | None, Any]]:
    """(1-based row number, the raw line or None, parsed row or ``_Unparseable``) for one uploaded file."""
    if multi_line:
        try:
            parsed = json.loads(path.read_bytes())
        except ValueError as error:
            yield 1, path.read_bytes(), _Unparseable(str(error))
            return
        if not isinstance(parsed, list):
            yield 1, path.read_bytes(), _Unparseable("an isMultiLineJson file must hold one JSON array")
            return
        for row_number, row in enumerate(parsed, start=1):
            yield row_number, None, row
        return
    with path.open("rb") as lines:
        for row_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield row_number, line, json.loads(line)
            except ValueError as error:
                yield row_number, line, _Unparseable(str(error))
