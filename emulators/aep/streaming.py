"""DCS streaming ingestion through the HTTP API inlet: one message, or many with a 207 per-message answer.

Every envelope's shape is checked, then its ``xdmEntity`` against the dataset's schema. Valid entities land in
``STORE/<dataset_id>/streaming-<n>.jsonl`` (one file per request and dataset) before the reply is sent.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from emulators.aep.config import ORG_ID
from emulators.aep.faults import Stats
from emulators.aep.flow_service import Inlet
from emulators.aep.replies import Reply, problem
from emulators.aep.sandbox import Sandbox, SandboxDirectory
from emulators.aep.store import LandingStore
from emulators.aep.validation import Violation, describe_violations


@dataclass
class Verdict:
    """What happened to one message: accepted for a dataset, or rejected with reasons."""

    dataset_id: str | None
    entity: Any
    reason: str | None = None
    violations: list[Violation] | None = None


class StreamingService:
    def __init__(self, directory: SandboxDirectory, store: LandingStore, stats: Stats) -> None:
        self._directory = directory
        self._store = store
        self._stats = stats
        self._file_numbers = itertools.count(1)
        self._lock = threading.Lock()

    def inlet(self, inlet_id: str) -> tuple[Sandbox, Inlet] | None:
        """The sandbox and inlet an inlet id belongs to (created through Flow Service, or the preset's)."""
        return self._directory.inlet(inlet_id)

    def single(self, sandbox: Sandbox, inlet: Inlet, message: Any, sync_validation: bool) -> Reply:
        """``POST /collection/{inletId}``: 200, or 400 for a malformed envelope or (with syncValidation) bad XDM.

        Without syncValidation an envelope that is well formed but whose XDM is invalid is still answered 200,
        as Platform does; the record does not land (Platform would send it to its error diagnostics).
        """
        inlet_id = inlet.inlet_id
        verdict = self._judge(sandbox, inlet, message)
        received = int(time.time() * 1000)
        if verdict.reason is not None and (sync_validation or not verdict.violations):
            self._stats.count("streaming_messages_rejected")
            return self._invalid_report(inlet_id, verdict)
        if verdict.reason is not None:
            self._stats.count("streaming_messages_rejected")
        else:
            self._land([verdict])
        return Reply(200, {"inletId": inlet_id, "xactionId": str(uuid.uuid4()), "receivedTimeMs": received})

    def many(self, sandbox: Sandbox, inlet: Inlet, body: Any) -> Reply:
        """``POST /collection/batch/{inletId}``: always 207, one response per message, in request order."""
        inlet_id = inlet.inlet_id
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return problem(400, "Bad Request", 'the body must be {"messages": [envelope, ...]} with one or more')
        batch_id = str(uuid.uuid4())
        verdicts = [self._judge(sandbox, inlet, message) for message in messages]
        self._land([v for v in verdicts if v.reason is None])
        responses: list[dict[str, Any]] = []
        for index, verdict in enumerate(verdicts):
            if verdict.reason is None:
                responses.append({"xactionId": f"{batch_id}:{index}"})
            else:
                responses.append({"statusCode": 400, "message": verdict.reason})
        rejected = sum(1 for v in verdicts if v.reason is not None)
        self._stats.count("streaming_messages_rejected", rejected)
        return Reply(
            207,
            {
                "inletId": inlet_id,
                "batchId": batch_id,
                "receivedTimeMs": int(time.time() * 1000),
                "responses": responses,
            },
        )

    def _judge(self, sandbox: Sandbox, inlet: Inlet, message: Any) -> Verdict:
        header = message.get("header") if isinstance(message, dict) else None
        body = message.get("body") if isinstance(message, dict) else None
        if not isinstance(header, dict) or not isinstance(body, dict):
            return Verdict(None, None, "Invalid XDM Message Format: the message needs a header and a body object")
        schema_id = _schema_ref_id(header)
        if schema_id is None:
            return Verdict(None, None, "Invalid XDM Message Format: header.schemaRef.id is missing")
        if header.get("imsOrgId") != ORG_ID:
            return Verdict(None, None, f"Invalid XDM Message Format: header.imsOrgId must be {ORG_ID}")
        dataset_id = header.get("datasetId")
        dataset = sandbox.catalog.dataset(dataset_id) if isinstance(dataset_id, str) else None
        if dataset is None:
            return Verdict(None, None, f"Invalid XDM Message Format: dataset {dataset_id!r} does not exist")
        flow_id = header.get("flowId")
        unrouted = inlet and sandbox.flows.routes_to(inlet, dataset.id, flow_id if isinstance(flow_id, str) else None)
        if unrouted:
            return Verdict(None, None, f"Invalid XDM Message Format: {unrouted}")
        if schema_id != dataset.schema_id:
            return Verdict(
                None, None, f"Invalid XDM Message Format: dataset {dataset.id} uses schema {dataset.schema_id}"
            )
        meta = body.get("xdmMeta")
        if not isinstance(meta, dict) or _schema_ref_id(meta) != schema_id:
            return Verdict(None, None, "Invalid XDM Message Format: body.xdmMeta.schemaRef.id must match the header's")
        if "xdmEntity" not in body:
            return Verdict(None, None, "Invalid XDM Message Format: body.xdmEntity is missing")
        entity = body["xdmEntity"]
        validator = sandbox.catalog.validator(dataset.id)
        if validator.is_valid(entity):
            return Verdict(dataset.id, entity)
        violations = validator.violations(entity)
        reason = "Invalid XDM Message Format: " + describe_violations(violations)
        return Verdict(dataset.id, entity, reason, violations)

    def _land(self, accepted: list[Verdict]) -> None:
        by_dataset: dict[str, list[Any]] = {}
        for verdict in accepted:
            assert verdict.dataset_id is not None
            by_dataset.setdefault(verdict.dataset_id, []).append(verdict.entity)
        for dataset_id, entities in by_dataset.items():
            with self._lock:
                number = next(self._file_numbers)
            written = self._store.land(dataset_id, f"streaming-{number:08d}", entities)
            self._stats.landed(dataset_id, written)
            self._stats.count("streaming_messages_accepted", written)

    @staticmethod
    def _invalid_report(inlet_id: str, verdict: Verdict) -> Reply:
        causes = [v.as_streaming_cause() for v in verdict.violations or []]
        if not causes:
            causes = [
                {
                    "schemaLocation": "#",
                    "pointerToViolation": "#",
                    "causingExceptions": [],
                    "keyword": "envelope",
                    "message": verdict.reason,
                }
            ]
        return Reply(
            400,
            {
                "type": "http://ns.adobe.com/aep/errors/XDM-1001-400",
                "status": 400,
                "title": "Invalid XDM Message Format",
                "report": {
                    "message": f"inletId: [{inlet_id}] imsOrgId: [{ORG_ID}] Message is invalid",
                    "cause": {"_streamingValidation": causes},
                },
            },
        )


def _schema_ref_id(container: dict[str, Any]) -> str | None:
    ref = container.get("schemaRef")
    if isinstance(ref, dict) and isinstance(ref.get("id"), str):
        return str(ref["id"])
    return None
