"""Can a file the run writes at the end (or on its first reject) be written? Asked at start-up, before any request."""

from __future__ import annotations

import os
from pathlib import Path


def write_problem(path: Path) -> str:
    """Why ``path`` could not be written (created or appended to), or ``""``; creates nothing."""
    if path.is_dir():
        return "it is a directory"
    if path.exists():
        return "" if os.access(path, os.W_OK) else "the file is not writable"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"directory {ancestor} is not writable"
    return ""
