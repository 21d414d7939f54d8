"""Error diagnostics of a batch: each failed row with Platform's codes and messages, and the batch's summary.

A row error file (Data Access ``meta?path=row_errors/...``) holds JSON lines
``{"_corrupt_record": "<the line as sent>", "_errors": [{"code", "message"}], "_filename": "<uploaded file>"}``.
Codes: ``1401`` a row that cannot be parsed and ``1555`` a missing required field (both documented), ``1402`` any
other violation of the dataset's schema (*assumed*). The batch's ``errors`` count rows per code
(``INGEST-{code}-400``, ``recordCount``) and list them in ``rows`` (1-based across the batch's files, ranges as
``"3-5"``); a partially ingested batch starts with ``INGEST-1212-400``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from emulators.aep.validation import Violation

ROWS_PER_FILE = 5000
_DESCRIPTIONS = {
    "1401": "The row has corrupted data and cannot be read or parsed. Fix the corrupted data and try again.",
    "1555": "A required field is either missing or has a value of null. Add the required field to the input row "
    "and try again.",
    "1402": "The row does not conform to the dataset's XDM schema. Fix the fields named in the diagnostic files "
    "and try again.",
}
_CORRUPT_MESSAGE = "Row is corrupted and cannot be read, please fix and resend."


@dataclass(frozen=True)
class RowError:
    """One failed row: where it was, the bytes sent, and every reason (code, message)."""

    file_name: str
    row: int  # 1-based across the batch's files, in upload order
    raw: bytes
    errors: tuple[tuple[str, str], ...]
    kind: str  # "parsing" or "validation": which diagnostic file it goes to

    def diagnostic(self) -> dict[str, Any]:
        return {
            "_corrupt_record": self.raw.decode("utf-8", "replace").rstrip("\r\n"),
            "_errors": [{"code": code, "message": message} for code, message in self.errors],
            "_filename": self.file_name,
        }


def unparseable_row_error(file_name: str, row: int, raw: bytes, reason: str) -> RowError:
    return RowError(file_name, row, raw, (("1401", f"{_CORRUPT_MESSAGE} ({reason})"),), "parsing")


def row_error_for_violations(file_name: str, row: int, raw: bytes, violations: list[Violation]) -> RowError:
    errors = tuple(("1555" if v.keyword == "required" else "1402", v.message) for v in violations)
    return RowError(file_name, row, raw, errors, "validation")


def diagnosed_errors(row_errors: list[RowError], landed: int | None) -> list[dict[str, Any]]:
    """The batch's ``errors`` with diagnostics on; ``landed`` is the rows ingested when the batch succeeded."""
    rows_by_code: dict[str, list[int]] = {}
    for row_error in row_errors:
        for code in dict.fromkeys(code for code, _ in row_error.errors):
            rows_by_code.setdefault(code, []).append(row_error.row)
    errors: list[dict[str, Any]] = []
    if landed is not None:
        errors.append(
            {
                "code": "INGEST-1212-400",
                "description": f"Encountered {len(row_errors)} errors in the data. Successfully ingested {landed} "
                "rows. Please review the associated diagnostic files for more details.",
            }
        )
    for code, rows in rows_by_code.items():
        errors.append(
            {
                "code": f"INGEST-{code}-400",
                "description": _DESCRIPTIONS[code],
                "recordCount": len(rows),
                "rows": _ranges(rows),
            }
        )
    return errors


def diagnostic_files(row_errors: list[RowError]) -> dict[str, bytes]:
    """File name -> JSON lines, as ``row_errors/{name}`` lists them (``parsing_errors_0.json``, ...)."""
    files: dict[str, bytes] = {}
    for kind in ("parsing", "validation"):
        rows = [r for r in row_errors if r.kind == kind]
        for index in range(0, len(rows), ROWS_PER_FILE):
            chunk = rows[index : index + ROWS_PER_FILE]
            lines = "".join(json.dumps(r.diagnostic(), ensure_ascii=False) + "\n" for r in chunk)
            files[f"{kind}_errors_{index // ROWS_PER_FILE}.json"] = lines.encode("utf-8")
    return files


def _ranges(rows: list[int]) -> list[str]:
    ranges: list[str] = []
    start = previous = None
    for row in sorted(set(rows)):
        if start is None:
            start = previous = row
        elif row == previous + 1:  # type: ignore[operator]
            previous = row
        else:
            ranges.append(f"{start}" if start == previous else f"{start}-{previous}")
            start = previous = row
    if start is not None:
        ranges.append(f"{start}" if start == previous else f"{start}-{previous}")
    return ranges
