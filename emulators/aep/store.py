"""What landed, on disk: ``STORE/<dataset_id>/*.jsonl``, one file per successful batch or streaming request.

A per-dataset ``_landed.log`` lists the files in the order they landed, so readers see arrival order even when
two files share a modification time.
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


class LandingStore:
    """Writes landed records atomically (write, then rename) and remembers their order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def uploads_dir(self, batch_id: str) -> Path:
        path = self.root / UPLOADS_DIR / batch_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def land(self, dataset_id: str, file_stem: str, records: Iterable[Any]) -> int:
        """Write the records as ``<file_stem>.jsonl`` under the dataset; returns how many were written."""
        directory = self.root / dataset_id
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{file_stem}.jsonl"
        temporary = directory / f".{name}.partial"
        count = 0
        with temporary.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
                out.write("\n")
                count += 1
        with self._lock:
            os.replace(temporary, directory / name)
            with (directory / LANDING_LOG).open("a", encoding="utf-8") as log:
                log.write(name + "\n")
        return count


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
