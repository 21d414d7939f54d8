"""Batch Ingestion API: create a batch, upload JSON-lines files, COMPLETE, poll until success or failure.

``ingest`` returns only once the Catalog reports the batch ``success``: that is what lets the target write a
Singer STATE line afterwards (see ``target_aep.sinks``). Any local failure aborts the batch so that AEP does not
half-load it later; a ``failed`` batch raises with AEP's own errors.

Every batch is created with error diagnostics on, so that when AEP fails one, its refused rows can be read back
(``row_errors.py``) and each traced to the record it came from (``target_aep.refused_rows``).

Partial ingestion (``partialIngestionPercentage``) is not asked for, on purpose. It would land a batch's good rows
and report the others as failed rows of a ``success`` batch, and a STATE line would then pass rows AEP never
took. The target's promise is a STATE only after AEP accepted everything before it, except records the target
itself found bad (those go to the dead-letter file). A row AEP refuses after the target validated it against the
dataset's schema is not bad data the target can judge: the schema changed since the run read it, or AEP applies a
rule the target does not know. Either way the cause is usually shared by many records. So the batch fails as a
whole, no STATE passes it, its refused rows go to the dead-letter file with AEP's code and message, and once the
cause is fixed the next run sends every row of it again. The cost: one refused row holds its batch back until
then, and the dead-letter entries say which row and why.
"""

from __future__ import annotations

import logging
import time
import typing as t
from dataclasses import dataclass

from target_aep.aep.errors import AEPError, BatchFailedError

if t.TYPE_CHECKING:
    from target_aep.aep.gateway import PlatformGateway

logger = logging.getLogger("target-aep.batch")

FILE_MAX_BYTES = 256 * 1024 * 1024  # AEP's limit for one file in a batch
POLL_FIRST_SECONDS = 0.05
POLL_MAX_SECONDS = 5.0
SUCCESS = "success"
FINAL_FAILURES = frozenset({"failed", "aborted", "abandoned"})


@dataclass
class BatchTimings:
    """Wall time spent in each phase, summed over a run (for the benchmark and the end-of-run log)."""

    upload_seconds: float = 0.0
    processing_seconds: float = 0.0
    batches: int = 0


class BatchIngestion:
    """One dataset batch at a time per caller; safe to share between sink threads."""

    def __init__(self, gateway: PlatformGateway, *, poll_timeout_seconds: float) -> None:
        self.gateway = gateway
        self.poll_timeout_seconds = poll_timeout_seconds
        self.timings = BatchTimings()

    def ingest(self, dataset_id: str, files: t.Sequence[tuple[str, bytes | memoryview]]) -> str:
        """Land ``files`` (name and JSON lines, each under the file limit) as one batch; return its id once
        ``success``. AEP names each refused row's file (``_filename``), which is how a row is traced back."""
        started = time.perf_counter()
        batch_id = self._create(dataset_id)
        try:
            for name, body in files:
                self._upload(batch_id, dataset_id, name, body)
            self._complete(batch_id)
        except BaseException:
            self._abort(batch_id)
            raise
        uploaded = time.perf_counter()
        self._wait_for_success(batch_id, dataset_id)
        self.timings.upload_seconds += uploaded - started
        self.timings.processing_seconds += time.perf_counter() - uploaded
        self.timings.batches += 1
        return batch_id

    def _create(self, dataset_id: str) -> str:
        body = self.gateway.request(
            "POST",
            "/data/foundation/import/batches",
            what=f"create batch for dataset {dataset_id}",
            json={"datasetId": dataset_id, "inputFormat": {"format": "json"}, "enableErrorDiagnostics": True},
        ).json()
        batch_id = body.get("id")
        if not batch_id:
            raise AEPError(f"create batch for dataset {dataset_id}: answer has no batch id")
        return str(batch_id)

    def _upload(self, batch_id: str, dataset_id: str, name: str, body: bytes | memoryview) -> None:
        if len(body) > FILE_MAX_BYTES:
            raise AEPError(f"batch {batch_id}: file {name} is {len(body)} bytes, over AEP's 256 MB limit")
        self.gateway.request(
            "PUT",
            f"/data/foundation/import/batches/{batch_id}/datasets/{dataset_id}/files/{name}",
            what=f"upload {name} to batch {batch_id}",
            headers={"Content-Type": "application/octet-stream"},
            data=body,
        )

    def _complete(self, batch_id: str) -> None:
        self.gateway.request(
            "POST",
            f"/data/foundation/import/batches/{batch_id}?action=COMPLETE",
            what=f"complete batch {batch_id}",
        )

    def _abort(self, batch_id: str) -> None:
        try:
            self.gateway.request(
                "POST",
                f"/data/foundation/import/batches/{batch_id}?action=ABORT",
                what=f"abort batch {batch_id}",
            )
            logger.warning("Aborted batch %s after a local failure", batch_id)
        except AEPError as exc:  # the original failure matters more than the abort's
            logger.warning("Could not abort batch %s: %s", batch_id, exc)

    def _wait_for_success(self, batch_id: str, dataset_id: str) -> None:
        started = time.monotonic()
        deadline = started + self.poll_timeout_seconds
        while True:
            body = self.gateway.request(
                "GET", f"/data/foundation/catalog/batches/{batch_id}", what=f"batch {batch_id} status"
            ).json()
            batch: dict = (body.get(batch_id) or next(iter(body.values()), {})) if isinstance(body, dict) else {}
            status = str(batch.get("status", "")).lower()
            if status == SUCCESS:
                return
            if status in FINAL_FAILURES:
                raise BatchFailedError(batch_id, dataset_id, status, list(batch.get("errors") or []))
            now = time.monotonic()
            wait = poll_wait(now - started)
            if now + wait > deadline:
                raise AEPError(
                    f"batch {batch_id} for dataset {dataset_id} still '{status}' after "
                    f"{self.poll_timeout_seconds:.0f} s (poll_timeout_seconds); its records are not confirmed, "
                    "so no state was written past them"
                )
            time.sleep(wait)


def poll_wait(waited: float) -> float:
    """Seconds to wait before the next status poll of a batch that has been processing ``waited`` seconds.

    A quarter of the time waited so far (at least ``POLL_FIRST_SECONDS``, at most ``POLL_MAX_SECONDS``): a batch
    is seen at most a quarter of its processing time after it ends. Waits growing by 1.6 a poll saw it up to 0.6
    times late; with one batch per dataset the end of a run waits on a few large batches, and the emulator's
    timestamps showed them seen 310-480 ms after their end, against 20-190 ms with this (6-9 polls more a run of
    100,000 records). On Platform, where a batch takes minutes, both reach the 5 s ceiling within 20 s.
    """
    return min(max(POLL_FIRST_SECONDS, waited / 4), POLL_MAX_SECONDS)
