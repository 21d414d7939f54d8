"""Run every benchmark in this folder: ``make bench`` or ``python -m bench [name ...]``.

Each ``bench/bench_<name>.py`` module has a ``main(argv: list[str]) -> None`` that starts the emulators it needs,
runs, and prints records/s and peak memory. Results are copied by hand into ``docs/benchmarks.md`` with the
command that produced them. Benchmarks are never part of ``make test``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    names = argv or sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    for name in names:
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(f"bench.bench_{name}").main([])


if __name__ == "__main__":
    main(sys.argv[1:])
