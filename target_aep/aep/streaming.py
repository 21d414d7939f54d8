"""Streaming ingestion through an HTTP API inlet: ``POST {dcs}/collection/batch/{inletId}``.

Each request carries envelopes totalling under 1 MB. The 207 answer has one response per message, in request
order: a message with an ``xactionId`` is accepted; a 4xx one is rejected for good (its record goes to the
dead-letter file with AEP's message); a 429/5xx one can succeed later and is sent again with backoff.
"""

from __future__ import annotations

import json
import logging
import time
import typing as t
from dataclasses import dataclass

from target_aep.aep.errors import AEPError, AEPUnavailableError
from target_aep.aep.gateway import MAX_ATTEMPTS, backoff_seconds

if t.TYPE_CHECKING:
    from target_aep.aep.catalog import DatasetTarget
    from target_aep.aep.gateway import PlatformGateway

logger = logging.getLogger("target-aep.streaming")

REQUEST_MAX_BYTES = 1_000_000 - 1024  # DCS rejects payloads over 1 MB (413); keep room for the wrapper
SOURCE_NAME = "tap-stripe-aep"


@dataclass(frozen=True)
class StreamingRejection:
    """A message DCS refused for good, with its position in the ``send`` call's input."""

    index: int
    status: int
    message: str


class StreamingIngestion:
    """Sends XDM entities to one inlet; shared by sink threads."""

    def __init__(self, gateway: PlatformGateway, *, streaming_url: str, org_id: str) -> None:
        self.gateway = gateway
        self.streaming_url = streaming_url.rstrip("/")
        self.org_id = org_id
        self.http_seconds = 0.0

    def envelope(self, target: DatasetTarget, xdm: dict) -> bytes:
        """One message as DCS expects it: header (schema, org, dataset, source) and body (xdmMeta, xdmEntity)."""
        schema_ref = {"id": target.schema_id, "contentType": target.schema_content_type}
        message = {
            "header": {
                "schemaRef": schema_ref,
                "imsOrgId": self.org_id,
                "datasetId": target.dataset_id,
                "source": {"name": SOURCE_NAME},
            },
            "body": {"xdmMeta": {"schemaRef": schema_ref}, "xdmEntity": xdm},
        }
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    def send(self, target: DatasetTarget, envelopes: t.Sequence[bytes]) -> list[StreamingRejection]:
        """Deliver every envelope; return those rejected for good. Raises if some could not be confirmed."""
        if not target.inlet_id:
            raise AEPError(f"stream '{target.stream}': streaming needs datasets.{target.stream}.inlet_id")
        rejections: list[StreamingRejection] = []
        for chunk in _chunks_under_limit(envelopes):
            rejections += self._send_chunk(target, envelopes, chunk)
        return rejections

    def _send_chunk(
        self, target: DatasetTarget, envelopes: t.Sequence[bytes], indexes: list[int]
    ) -> list[StreamingRejection]:
        rejections: list[StreamingRejection] = []
        pending = indexes
        for attempt in range(1, MAX_ATTEMPTS + 1):
            body = b'{"messages":[' + b",".join(envelopes[i] for i in pending) + b"]}"
            started = time.perf_counter()
            response = self.gateway.request(
                "POST",
                f"{self.streaming_url}/collection/batch/{target.inlet_id}",
                what=f"streaming {len(pending)} messages to inlet for dataset {target.dataset_id}",
                headers={"Content-Type": "application/json"},
                data=body,
                ok=(200, 207),
            )
            self.http_seconds += time.perf_counter() - started
            answers = response.json().get("responses") or []
            if len(answers) != len(pending):
                raise AEPError(
                    f"inlet answered {len(answers)} responses for {len(pending)} messages; cannot tell which landed"
                )
            retry: list[int] = []
            for index, answer in zip(pending, answers, strict=True):
                status = int(answer.get("statusCode") or (200 if answer.get("xactionId") else 500))
                if 200 <= status < 300:
                    continue
                if status == 429 or status >= 500:
                    retry.append(index)
                else:
                    rejections.append(StreamingRejection(index, status, str(answer.get("message", ""))))
            if not retry:
                return rejections
            pending = retry
            wait = backoff_seconds(attempt)
            logger.warning("%d streaming messages answered 429/5xx; resending in %.2f s", len(retry), wait)
            time.sleep(wait)
        raise AEPUnavailableError(
            f"{len(pending)} streaming messages for dataset {target.dataset_id} were still refused with 429/5xx "
            f"after {MAX_ATTEMPTS} attempts"
        )


def _chunks_under_limit(envelopes: t.Sequence[bytes]) -> t.Iterator[list[int]]:
    """Indexes of envelopes grouped so each request body stays under ``REQUEST_MAX_BYTES``."""
    chunk: list[int] = []
    size = 0
    for index, envelope in enumerate(envelopes):
        if len(envelope) > REQUEST_MAX_BYTES:
            raise AEPError(f"one streaming message is {len(envelope)} bytes, over DCS's 1 MB limit")
        if chunk and size + len(envelope) + 1 > REQUEST_MAX_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(index)
        size += len(envelope) + 1
    if chunk:
        yield chunk
