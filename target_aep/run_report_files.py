"""Where the run report goes (``report_path`` and the JSON beside it) and how both are written.

Both files are written whole or not at all (a temporary file renamed over the old one): a stop signal that arrives
while the report of a finished run is written ends the process after writing the report of an interrupted one,
and a reader never finds half a page.
"""

from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

from target_aep.run_report_html import render_html
from target_aep.writable import write_problem

DEFAULT_REPORT_PATH = "target-aep-report.html"


class ReportPathError(RuntimeError):
    """``report_path`` (or the JSON file beside it) cannot be written: found at start-up, before any request."""


def report_paths(setting: str | None) -> tuple[Path, Path]:
    """The HTML report's path and its JSON twin's: the same path with ``.json`` (``run.html`` -> ``run.json``)."""
    html_path = Path(setting or DEFAULT_REPORT_PATH)
    return html_path, html_path.with_suffix(".json")


def check_report_paths(setting: str | None) -> None:
    """Fail now if the report could not be written at the end of the run (nothing is created here)."""
    for path in report_paths(setting):
        problem = write_problem(path)
        if problem:
            raise ReportPathError(
                f"report_path {setting or DEFAULT_REPORT_PATH}: {path} cannot be written ({problem}); the run "
                "report would be lost, so nothing was sent"
            )


def write_report_files(setting: str | None, document: dict[str, t.Any]) -> Path:
    """Write the JSON document and its HTML page; returns the HTML page's path."""
    html_path, json_path = report_paths(setting)
    _write_whole(json_path, json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    _write_whole(html_path, render_html(document))
    return html_path


def _write_whole(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{id(text)}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
