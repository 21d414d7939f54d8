"""What landed, on disk: ``STORE/<dataset_id>/*.jsonl``, one file per successful batch or streaming request.

A per-dataset ``_landed.log`` lists the files in the order they landed, so readers see arrival order even when
two files share a modification time. Files are written under a hidden name and renamed when complete, so a
reader never sees half a batch.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LANDING_LOG = "_landed.log"
UPLOADS_DIR = ".uploads"  # staged batch files; not a dataset directory


class Landing:
    """One landing file being written; ``commit()`` makes it visible, ``discard()`` drops it."""

    def __init__(self, store: LandingStore, dataset_id: str, file_stem: str) -> None:
        self._store = store
        self._directory = store.root / dataset_id
        self._directory.mkdir(parents=True, exist_ok=True)
        self.name = f"{file_stem}.jsonl"
        self._temporary = self._directory / f".{self.name}.partial"
        self._out = self._temporary.open("wb")
        self.count = 0

    def write_line(self, line: bytes) -> None:
        """One record already serialized as a single JSON line (kept byte for byte)."""
        self._out.write(line.rstrip())
        self._out.write(b"\n")
        self.count += 1

    def write_record(self, record: Any) -> None:
        self.write_line(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    def commit(self) -> int:
        self._out.close()
        self._store.publish(self._directory, self._temporary, self.name)
        return self.count

    def discard(self) -> None:
        self._out.close()
        self._temporary.unlink(missing_ok=True)


class LandingStore:
    """Creates landing files and keeps the per-dataset arrival order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def uploads_dir(self, batch_id: str) -> Path:
        path = self.root / UPLOADS_DIR / batch_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def begin(self, dataset_id: str, file_stem: str) -> Landing:
        return Landing(self, dataset_id, file_stem)

    def land(self, dataset_id: str, file_stem: str, records: Iterable[Any]) -> int:
        """Write the records as ``<file_stem>.jsonl`` under the dataset; returns how many were written."""
        landing = self.begin(dataset_id, file_stem)
        try:
            for record in records:
                landing.write_record(record)
        except BaseException:
            landing.discard()
            raise
        return landing.commit()

    def publish(self, directory: Path, temporary: Path, name: str) -> None:
        with self._lock:
            os.replace(temporary, directory / name)
            with (directory / LANDING_LOG).open("a", encoding="utf-8") as log:
                log.write(name + "\n")


def read_landed(store_dir: str | Path, dataset_id: str) -> list[dict[str, Any]]:
    """Every record landed in the dataset, in arrival order (empty if nothing landed)."""
    directory = Path(store_dir) / dataset_id
    if not directory.is_dir():
        return []
    ordered: list[str] = []
    log = directory / LANDING_LOG
    if log.exists():
        ordered = [line for line in log.read_text(encoding="utf-8").splitlines() if line]
    listed = set(ordered)
    ordered += sorted(p.name for p in directory.glob("*.jsonl") if p.name not in listed)
    records: list[dict[str, Any]] = []
    for name in ordered:
        path = directory / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records
