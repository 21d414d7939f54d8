"""Reply values shared by the services: an HTTP status, a JSON body (or none) and extra headers."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    body: Any = None  # None: an empty body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    raw: bytes | None = None  # sent verbatim instead of ``body`` (the Schema Registry's files)


def problem(status: int, title: str, detail: str, code: str | None = None) -> Reply:
    """An error in Platform's problem-details shape (the exact fields are *assumed*)."""
    error_code = code or f"EMULATOR-{status}"
    return Reply(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/{error_code}",
            "title": title,
            "status": status,
            "detail": detail,
        },
    )


def registry_problem(status: int, code: str, title: str, detail: str) -> Reply:
    """A Schema Registry error, shaped as its troubleshooting guide shows (``type`` ends ``XDM-{code}-{status}``)."""
    return Reply(
        status,
        {
            "type": f"http://ns.adobe.com/aep/errors/XDM-{code}-{status}",
            "title": title,
            "status": status,
            "report": {
                "registryRequestId": str(uuid.uuid4()),
                "timestamp": time.strftime("%m-%d-%Y %H:%M:%S", time.gmtime()),
                "detailed-message": detail,
                "sub-errors": [],
            },
            "detail": detail,
        },
    )
