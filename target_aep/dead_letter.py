"""The dead-letter file: one JSON line per rejected record, with the reasons, so nothing is silently lost."""

from __future__ import annotations

import datetime
import json
import threading
import typing as t
from pathlib import Path


class DeadLetterFile:
    """Appends rejected records to ``path`` (opened on the first rejection); thread-safe; scrubs secrets."""

    def __init__(self, path: str | Path, secrets: t.Callable[[], t.Iterable[str]]) -> None:
        self.path = Path(path)
        self._secrets = secrets
        self._lock = threading.Lock()
        self._file: t.TextIO | None = None
        self.count = 0

    def reject(self, stream: str, record: dict, reasons: list[str], record_id: object = None) -> None:
        """Write one rejected record with why it was rejected."""
        entry = {
            "stream": stream,
            "id": record_id if record_id is not None else record.get("id"),
            "reasons": reasons,
            "record": record,
            "time": datetime.datetime.now(datetime.UTC).isoformat(),
        }
        line = json.dumps(entry, default=str, ensure_ascii=False)
        for secret in self._secrets():
            if secret and secret in line:
                line = line.replace(secret, "***")
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(line + "\n")
            self._file.flush()
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
