"""The dead-letter file: one JSON line per rejected record, with the reasons, so nothing is silently lost."""

from __future__ import annotations

import datetime
import json
import threading
import typing as t
from pathlib import Path

from target_aep.writable import write_problem


class DeadLetterPathError(RuntimeError):
    """``dead_letter_path`` cannot be written: found at start-up, before any record is sent."""


class DeadLetterFile:
    """Appends rejected records to ``path`` (opened on the first rejection); thread-safe; scrubs secrets."""

    # What `check_writable` names: the setting, and what would be lost (the repairs file reuses both the check
    # and the writing, see target_aep/repairs_file.py).
    setting = "dead_letter_path"
    consequence = "rejected records would have nowhere to go"

    def __init__(self, path: str | Path, secrets: t.Callable[[], t.Iterable[str]]) -> None:
        self.path = Path(path)
        self._secrets = secrets
        self._lock = threading.Lock()
        self._file: t.TextIO | None = None
        self.count = 0

    def check_writable(self) -> None:
        """Fail now if rejects could not be written later, without creating the file (it appears on the first
        reject): a reject that cannot be recorded mid-run would stop the run after records were already sent."""
        path = self.path
        problem = write_problem(path)
        if problem:
            raise DeadLetterPathError(
                f"{self.setting} {path} cannot be written ({problem}); {self.consequence}, so nothing was sent"
            )

    def reject(
        self,
        stream: str,
        record: t.Any,
        reasons: list[str],
        record_id: object = None,
        *,
        details: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        """Write one rejected record with why it was rejected.

        ``details`` adds keys after the common ones: for a row AEP refused, the batch, the dataset and AEP's
        errors (``target_aep.refused_rows``).
        """
        entry = {
            "stream": stream,
            "id": record_id if record_id is not None or not isinstance(record, dict) else record.get("id"),
            "reasons": reasons,
            "record": record,
            "time": datetime.datetime.now(datetime.UTC).isoformat(),
            **(details or {}),
        }
        self._write(entry, flush=True)

    def _write(self, entry: t.Mapping[str, t.Any], *, flush: bool) -> None:
        """Append one entry as a JSON line, secrets scrubbed; opens the file on the first entry."""
        line = json.dumps(entry, default=str, ensure_ascii=False)
        for secret in self._secrets():
            if secret and secret in line:
                line = line.replace(secret, "***")
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(line + "\n")
            if flush:
                self._file.flush()
            self.count += 1

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
