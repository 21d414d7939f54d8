"""Data Access API over finished batches: a failed batch's files, a batch's meta files (input files and row error
diagnostics), and the dataset files a successful batch wrote.

``GET /data/foundation/export/batches/{id}/meta?path=row_errors`` lists the diagnostic files of a batch created
with ``enableErrorDiagnostics`` (404 without); ``?path=row_errors/{name}`` downloads one (JSON lines, see
``row_errors.py``). ``/failed`` lists a failed batch's uploaded files (``?path={name}``: the file as sent).
Listings answer ``{"data": [{"name", "length", "_links": {"self": {"href"}}}], "_page": {"limit", "count"}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from emulators.aep.batches import Batch
from emulators.aep.replies import Reply, problem
from emulators.aep.row_errors import diagnostic_files

LIMIT = 100
_FINISHED = ("success", "failed")


def _listing(entries: list[tuple[str, int, str]], query: dict[str, list[str]]) -> Reply:
    try:
        start = int((query.get("start") or ["0"])[0])
        limit = min(int((query.get("limit") or [str(LIMIT)])[0]), LIMIT)
    except ValueError:
        return problem(400, "Bad Request", "start and limit must be integers")
    page = entries[start : start + limit]
    data = [{"name": name, "length": str(length), "_links": {"self": {"href": href}}} for name, length, href in page]
    return Reply(200, {"data": data, "_page": {"limit": limit, "count": len(data)}})


def _download(content: bytes) -> Reply:
    return Reply(200, raw=content, content_type="application/json")


def _not_found(detail: str) -> Reply:
    return problem(404, "Not Found", detail)


def failed_files(batch: Batch, query: dict[str, list[str]], base_url: str) -> Reply:
    """``GET /export/batches/{id}/failed[?path=name]``."""
    files = dict(batch.files) if batch.status == "failed" else {}
    path = (query.get("path") or [None])[0]
    if path is not None:
        if path not in files:
            return _not_found(f"batch {batch.id} has no failed file {path!r}")
        return _download(files[path].read_bytes())
    href = f"{base_url}/data/foundation/export/batches/{batch.id}/failed?path="
    return _listing([(name, p.stat().st_size, href + quote(name, safe="")) for name, p in files.items()], query)


def meta_files(batch: Batch, query: dict[str, list[str]], base_url: str) -> Reply:
    """``GET /export/batches/{id}/meta[?path=input_files|row_errors|row_errors/{name}|...]``."""
    if batch.status not in _FINISHED:
        return _not_found(f"batch {batch.id} is {batch.status}; its meta files exist once it is finished")
    href = f"{base_url}/data/foundation/export/batches/{batch.id}/meta?path="
    tree: dict[str, dict[str, bytes]] = {"input_files": {"fileMetaData0.json": _input_files(batch)}}
    if batch.diagnostics:
        tree["row_errors"] = diagnostic_files(batch.row_errors)
    path = ((query.get("path") or [""])[0]).strip("/")
    if not path:
        return _listing([(name, 0, href + name) for name in tree], query)
    directory, _, name = path.partition("/")
    if directory not in tree:
        return _not_found(f"path {path!r} is not found for batch {batch.id}")
    if not name:
        files = tree[directory]
        return _listing([(n, len(c), href + quote(f"{directory}/{n}", safe="")) for n, c in files.items()], query)
    if name not in tree[directory]:
        return _not_found(f"path {path!r} is not found for batch {batch.id}")
    return _download(tree[directory][name])


def dataset_files(batch: Batch, store_root: Path, query: dict[str, list[str]], base_url: str) -> Reply:
    """``GET /export/batches/{id}/files``: the dataset file a successful batch wrote."""
    landed = store_root / batch.dataset_id / f"{batch.id}.jsonl"
    data: list[dict[str, Any]] = []
    if batch.status == "success" and landed.exists():
        data.append(
            {
                "dataSetFileId": f"{batch.id}-0",
                "dataSetViewId": batch.dataset_id,
                "version": "1.0.0",
                "created": str(batch.completed_ms),
                "updated": str(batch.completed_ms),
                "isValid": True,
                "records": str(batch.metrics.get("outputRecordCount", 0)),
                "size": str(landed.stat().st_size),
                "_links": {"self": {"href": f"{base_url}/data/foundation/export/files/{batch.id}-0"}},
            }
        )
    return Reply(200, {"data": data, "_page": {"limit": LIMIT, "count": len(data)}})


def dataset_file(batch: Batch, store_root: Path, query: dict[str, list[str]], base_url: str) -> Reply:
    """``GET /export/files/{batchId}-0[?path=name]``: the landed records as JSON lines."""
    landed = store_root / batch.dataset_id / f"{batch.id}.jsonl"
    if batch.status != "success" or not landed.exists():
        return _not_found(f"dataset file {batch.id}-0 does not exist")
    path = (query.get("path") or [None])[0]
    if path is not None:
        return _download(landed.read_bytes()) if path == landed.name else _not_found(f"no file {path!r}")
    href = f"{base_url}/data/foundation/export/files/{batch.id}-0?path={landed.name}"
    return _listing([(landed.name, landed.stat().st_size, href)], query)


def _input_files(batch: Batch) -> bytes:
    return "".join(f'{{"path": "{name}"}}\n' for name in batch.files).encode("utf-8")
