"""Batch Ingestion API and the Catalog's batch objects: create, upload, COMPLETE/ABORT, then validate and land.

A completed batch is validated row by row against its dataset's schema. All rows valid: the batch ends
``success`` and its rows land in ``STORE/<dataset_id>/<batch_id>.jsonl``. Any row invalid: ``failed`` and nothing
lands (the emulator never does partial ingestion).
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
from emulators.aep.config import ORG_ID
from emulators.aep.faults import FaultPlan, Stats
from emulators.aep.replies import Reply, problem
from emulators.aep.store import LandingStore
from emulators.aep.validation import describe_violations

MAX_DETAILED_ERRORS = 100  # rows explained in ``errors``; the rest are only counted


@dataclass
class Batch:
    id: str
    dataset_id: str
    multi_line: bool
    created_ms: int
    status: str = "loading"
    updated_ms: int = 0
    files: dict[str, Path] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


class BatchRejected(Exception):
    """A batch fails as a whole, with errors in Platform's ``{code, description, rows}`` shape."""

    def __init__(self, errors: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
        super().__init__(errors[0]["description"] if errors else "batch failed")
        self.errors = errors
        self.metrics = metrics


def _now_ms() -> int:
    return int(time.time() * 1000)


class BatchService:
    def __init__(self, catalog: Catalog, store: LandingStore, faults: FaultPlan, stats: Stats) -> None:
        self._catalog = catalog
        self._store = store
        self._faults = faults
        self._stats = stats
        self._batches: dict[str, Batch] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch")

    # --- Batch Ingestion API -------------------------------------------------------------------------------

    def create(self, body: Any) -> Reply:
        """``POST /data/foundation/import/batches``."""
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "the request body must be a JSON object")
        dataset_id = body.get("datasetId")
        if not isinstance(dataset_id, str) or dataset_id not in self._catalog.datasets:
            return problem(400, "Bad Request", f"datasetId {dataset_id!r} is not a known dataset")
        input_format = body.get("inputFormat")
        if not isinstance(input_format, dict) or str(input_format.get("format", "")).lower() != "json":
            return problem(400, "Bad Request", 'inputFormat.format must be "json" (the only format emulated)')
        now = _now_ms()
        batch = Batch(uuid.uuid4().hex, dataset_id, bool(input_format.get("isMultiLineJson")), now, updated_ms=now)
        with self._lock:
            self._batches[batch.id] = batch
        self._stats.count("batches_created")
        return Reply(201, self._describe(batch)[batch.id])

    def check_upload(self, batch_id: str, dataset_id: str, file_name: str) -> Reply | Path:
        """Before a ``PUT .../files/{name}`` body is read: where to write it, or why not."""
        if not file_name or "/" in file_name or file_name.startswith("."):
            return problem(400, "Bad Request", f"invalid file name {file_name!r}")
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
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

    def act(self, batch_id: str, action: str) -> Reply:
        """``POST /data/foundation/import/batches/{id}?action=COMPLETE|ABORT``."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return problem(404, "Not Found", f"batch {batch_id} does not exist")
            if action == "COMPLETE":
                if batch.status == "aborted":
                    return problem(400, "Bad Request", f"batch {batch_id} was aborted")
                if batch.status != "loading":
                    return Reply(200)  # idempotent: already accepted
                batch.status = "processing"
                batch.updated_ms = _now_ms()
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

    # --- Catalog --------------------------------------------------------------------------------------------

    def catalog_body(self, batch_id: str) -> Reply:
        """``GET /data/foundation/catalog/batches/{id}``: the batch keyed by its id."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
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
            "imsOrg": ORG_ID,
            "status": batch.status,
            "created": batch.created_ms,
            "updated": batch.updated_ms,
            "createdUser": "emulator-client-id@AdobeID",
            "relatedObjects": [{"type": "dataSet", "id": batch.dataset_id}],
            "inputFormat": {"format": "json", "isMultiLineJson": batch.multi_line},
            "version": "1.0.0",
            "tags": {},
            "metrics": dict(batch.metrics),
        }
        if batch.status == "failed":
            body["errors"] = list(batch.errors)
        return {batch.id: body}

    # --- processing -------------------------------------------------------------------------------------------

    def _process(self, batch: Batch, forced_failure: bool, accepted_at: float) -> None:
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
            written = self._validate_and_land(batch)
            self._stats.landed(batch.dataset_id, written)
            outcome, errors = "success", []
            metrics = {"inputRecordCount": written, "outputRecordCount": written, "failedRecordCount": 0}
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
            batch.updated_ms = _now_ms()
        self._stats.count(f"batches_{outcome}")

    def _validate_and_land(self, batch: Batch) -> int:
        """Valid rows stream into the landing file (no parsed rows are kept); any invalid row discards it all."""
        validator = self._catalog.validators[batch.dataset_id]
        landing = self._store.begin(batch.dataset_id, batch.id)
        errors: list[dict[str, Any]] = []
        failed = total = 0
        try:
            for file_name, path in batch.files.items():
                for row_number, line, row in _rows(path, batch.multi_line):
                    total += 1
                    if isinstance(row, _Unparseable):
                        failed += 1
                        _note(errors, "INVALID_JSON", file_name, row_number, f"not valid JSON: {row.reason}")
                    elif validator.is_valid(row):
                        if failed == 0 and line is not None:
                            landing.write_line(line)
                        elif failed == 0:
                            landing.write_record(row)
                    else:
                        failed += 1
                        if len(errors) < MAX_DETAILED_ERRORS:
                            reasons = describe_violations(validator.violations(row))
                            _note(errors, "XDM_VALIDATION", file_name, row_number, reasons)
            if failed:
                raise BatchRejected(errors, {})
        except BatchRejected:
            landing.discard()
            self._stats.count("batch_rows_validated", total)
            if failed > len(errors):
                errors.append({"code": "XDM_VALIDATION", "description": f"{failed} rows failed in all", "rows": []})
            raise BatchRejected(
                errors, {"inputRecordCount": total, "outputRecordCount": 0, "failedRecordCount": failed}
            ) from None
        except BaseException:
            landing.discard()
            raise
        self._stats.count("batch_rows_validated", landing.count)
        return landing.commit()


class _Unparseable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _rows(path: Path, multi_line: bool) -> Iterator[tuple[int, bytes | None, Any]]:
    """(1-based row number, the raw line or None, parsed row or ``_Unparseable``) for one uploaded file."""
    if multi_line:
        try:
            parsed = json.loads(path.read_bytes())
        except ValueError as error:
            yield 1, None, _Unparseable(str(error))
            return
        if not isinstance(parsed, list):
            yield 1, None, _Unparseable("an isMultiLineJson file must hold one JSON array")
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


def _note(errors: list[dict[str, Any]], code: str, file_name: str, row_number: int, reason: str) -> None:
    if len(errors) < MAX_DETAILED_ERRORS:
        errors.append(
            {
                "code": code,
                "description": f"{file_name} row {row_number}: {reason}",
                "rows": [row_number],
                "file": file_name,
            }
        )
