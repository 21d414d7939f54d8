"""Every Platform and DCS call the emulator answered, in order: what tests read to assert, for example, that a
second ``target-aep-setup --apply`` made no write at all (``GET /_emulator/requests``)."""

from __future__ import annotations

import threading
import time
from typing import Any

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, method: str, path: str, query: str, status: int, sandbox: str | None) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "sandbox": sandbox,
            "write": method in WRITE_METHODS,
            "time_ms": int(time.time() * 1000),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def reset(self) -> int:
        """Forget every entry; returns how many there were."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count
