"""AEP's verdict on each row of a failed batch, read through the Data Access API, and the line each is about.

A batch created with ``enableErrorDiagnostics`` (``batch_ingestion.py`` always asks for it) keeps, once it has
finished, its failed rows under its meta directory: ``GET /data/foundation/export/batches/{id}/meta?path=row_errors``
lists the row error files (at most 100 a page, ``start``/``limit``), and ``?path=row_errors/{name}`` downloads one.
Each file holds one JSON object a line:

- ``{"_corrupt_record": "<the row as sent>", "_errors": [{"code": "1401", "message": "..."}], "_filename": "..."}``
  for a row AEP could not take as sent (Adobe's guide shows it for parsing errors);
- or the row's own columns beside ``_errors`` and ``_filename`` (Adobe's guide shows it for conversion errors).

``LineMatcher`` finds the line the target sent for each failed row: by the exact text first, else by the row's
``_id``, which the target makes deterministic and puts in every record (``xdm/identities.py``).
"""

from __future__ import annotations

import json
import typing as t
import urllib.parse
from dataclasses import dataclass

from target_aep.aep.errors import AEPError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from target_aep.aep.gateway import PlatformGateway

PAGE_LIMIT = 100  # the Data Access API's maximum page size
MAX_PAGES = 1000  # a listing that never ends is AEP's bug; stop rather than loop forever
_DIAGNOSTIC_KEYS = ("_errors", "_filename", "_corrupt_record")


class RowErrorsUnavailableError(AEPError):
    """AEP's row errors of a failed batch could not be read (the batch's own failure is reported beside it)."""


@dataclass(frozen=True)
class AEPRowError:
    """One reason AEP gave for refusing a row: its code (``1401``, ``1555``, ...) and message."""

    code: str
    message: str


@dataclass(frozen=True)
class FailedRow:
    """One row AEP refused, as its diagnostic file tells it."""

    file_name: str
    errors: tuple[AEPRowError, ...]
    sent_text: str | None  # ``_corrupt_record``: the row as sent, when AEP gives it
    row: t.Any  # the row as JSON (parsed from ``sent_text``, or the columns AEP gave); None when it does not parse

    @property
    def xdm_id(self) -> str | None:
        """The row's ``_id``, when it has one."""
        return str(self.row["_id"]) if isinstance(self.row, dict) and self.row.get("_id") is not None else None

    @classmethod
    def from_diagnostic(cls, entry: dict[str, t.Any]) -> FailedRow:
        errors = tuple(
            AEPRowError(str(e.get("code", "")), str(e.get("message") or e.get("description") or ""))
            for e in entry.get("_errors") or []
            if isinstance(e, dict)
        )
        sent_text = entry.get("_corrupt_record")
        if isinstance(sent_text, str):
            try:
                row: t.Any = json.loads(sent_text)
            except ValueError:
                row = None
        else:
            sent_text = None
            row = {key: value for key, value in entry.items() if key not in _DIAGNOSTIC_KEYS}
        return cls(str(entry.get("_filename") or ""), errors, sent_text, row)


def lookup_hint(batch_id: str) -> str:
    """How a user finds a batch's row errors without the target."""
    return (
        f"look them up with GET /data/foundation/export/batches/{batch_id}/meta?path=row_errors (Data Access API), "
        f"or in the Experience Platform UI under Monitoring or the dataset's activity, batch {batch_id}"
    )


class RowErrorReader:
    """Reads a finished batch's row error files through the Data Access API; shared by sink threads."""

    def __init__(self, gateway: PlatformGateway) -> None:
        self.gateway = gateway

    def failed_rows(self, batch_id: str) -> Iterator[FailedRow]:
        """Every row AEP refused in ``batch_id``, file by file; raises ``RowErrorsUnavailableError`` if it cannot."""
        base = f"/data/foundation/export/batches/{urllib.parse.quote(batch_id, safe='')}/meta"
        try:
            for name in self._row_error_files(base, batch_id):
                yield from self._read_file(base, batch_id, name)
        except RowErrorsUnavailableError:
            raise
        except AEPError as exc:
            raise RowErrorsUnavailableError(str(exc)) from None

    def _row_error_files(self, base: str, batch_id: str) -> list[str]:
        names: list[str] = []
        for page in range(MAX_PAGES):
            body = self.gateway.request(
                "GET",
                base,
                what=f"list the row errors of batch {batch_id}",
                params={"path": "row_errors", "start": page * PAGE_LIMIT, "limit": PAGE_LIMIT},
            ).json()
            entries = body.get("data") if isinstance(body, dict) else None
            if not isinstance(entries, list):
                raise RowErrorsUnavailableError(f"the row error listing of batch {batch_id} has no data list")
            names += [str(e["name"]) for e in entries if isinstance(e, dict) and e.get("name")]
            if len(entries) < PAGE_LIMIT:
                return names
        raise RowErrorsUnavailableError(f"the row error listing of batch {batch_id} has over {MAX_PAGES} pages")

    def _read_file(self, base: str, batch_id: str, name: str) -> Iterator[FailedRow]:
        path = name if name.startswith("row_errors/") else f"row_errors/{name}"
        text = self.gateway.request(
            "GET", base, what=f"download {path} of batch {batch_id}", params={"path": path}
        ).content.decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                raise RowErrorsUnavailableError(f"line {number} of {path} of batch {batch_id} is not JSON") from None
            if not isinstance(entry, dict):
                raise RowErrorsUnavailableError(f"line {number} of {path} of batch {batch_id} is not a JSON object")
            yield FailedRow.from_diagnostic(entry)


class LineMatcher:
    """Finds the line a failed row is about among ``lines`` (one file's, or one stream's, as sent).

    The exact text is tried first; AEP may give the row as columns rather than as sent, so the deterministic
    ``_id`` comes next. Identical lines (the same record twice in one batch) are handed out one each. The lookups
    are built on the first row that needs them: a failed batch usually names few rows.
    """

    def __init__(self, lines: Sequence[bytes]) -> None:
        self._lines = lines
        self._by_text: dict[bytes, list[int]] | None = None
        self._by_id: dict[str, list[int]] | None = None
        self._taken: set[int] = set()

    def find(self, row: FailedRow) -> int | None:
        index = None
        if row.sent_text is not None:
            if self._by_text is None:
                self._by_text = _positions(enumerate(self._lines))
            index = _take(self._by_text, row.sent_text.rstrip("\r\n").encode("utf-8"), self._taken)
        if index is None and row.xdm_id is not None:
            if self._by_id is None:
                self._by_id = _positions((i, _xdm_id(line)) for i, line in enumerate(self._lines))
            index = _take(self._by_id, row.xdm_id, self._taken)
        return index


def _xdm_id(line: bytes) -> str | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return str(value["_id"]) if isinstance(value, dict) and value.get("_id") is not None else None


_Key = t.TypeVar("_Key")


def _positions(keyed: Iterable[tuple[int, _Key | None]]) -> dict[_Key, list[int]]:
    positions: dict[_Key, list[int]] = {}
    for index, key in keyed:
        if key is not None:
            positions.setdefault(key, []).append(index)
    return positions


def _take(positions: dict[_Key, list[int]], key: _Key, taken: set[int]) -> int | None:
    """The first position of ``key`` not handed out yet (the last one again once all were)."""
    found = positions.get(key)
    if not found:
        return None
    for index in found:
        if index not in taken:
            taken.add(index)
            return index
    return found[-1]
