"""Is the tap's output unchanged? Runs the tap CLI of another commit and of this work tree against seeded Stripe
emulators and compares what they wrote, line for line.

``python scripts/compare_tap_output.py [--baseline main] [--customers 300] [--streams all|classic|a,b]``

Three runs, each against a fresh emulator started with the same seed and ``--now``: the baseline's tap against
the baseline's emulator, this tree's tap against the baseline's emulator (the tap alone changed), and this tree's
tap against this tree's emulator (the emulator alone changed, since the tap is the same). The baseline is the
commit's tree from ``git archive``, run with this tree's virtualenv.

What is compared: every line, in order, byte for byte, except what depends on the wall clock: a RECORD's
``time_extracted`` and an ``updated`` at or after the emulator's start (payment links have no creation time, so
they are ``updated`` at the run's "now"), and in STATE lines the values at or after the emulator's start
(``events_since``, the end of the history read: Stripe's "now"). When the order across streams differs, the lines
are compared per stream too (the tap chooses which partition it writes next and writes partitions by turns: the
order within a stream and the last STATE must be identical). A stream's succession of bookmarks is compared too
but only reported: how many finished ranges one batch holds depends on when reads end (two runs of the same
commit differ there), so a succession may skip or add steps; every STATE line still covers only records written
before it (tests/tap/test_sync_order.py checks that by resuming from them). Exits 1 on any other difference,
printing the first ones.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_emulator_0000000000000000"
NOW = 1_780_000_000  # a fixed start for every emulator (2026-05-28T20:26:40Z); the data is anchored to its day
NOW_ISO = b"2026-05-28T20:26:40Z"
_TIME_EXTRACTED = re.compile(rb'"time_extracted":"[^"]*"')
_UPDATED = re.compile(rb'"updated":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"')


@contextlib.contextmanager
def baseline_tree(ref: str) -> Iterator[Path]:
    """The tree of ``ref`` in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="tap-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", ref], cwd=REPO_ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


@contextlib.contextmanager
def emulator_from(tree: Path, customers: int) -> Iterator[str]:
    """A Stripe emulator run from ``tree``'s code; yields its URL."""
    args = [sys.executable, "-m", "emulators.stripe", "--port", "0", "--customers", str(customers)]
    args += ["--now", str(NOW), "--accounts", "acct_compare_a"]
    proc = subprocess.Popen(args, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"the emulator in {tree} did not start")
        yield line.split(" ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_tap(tree: Path, url: str, catalog: dict, workdir: Path) -> bytes:
    """The tap of ``tree`` (its package first on the path) against ``url``: its stdout."""
    config = workdir / "config.json"
    config.write_text(json.dumps({"api_key": KEY, "api_url": url, "account_ids": ["acct_compare_a"]}))
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    env = dict(os.environ, PYTHONPATH=str(tree))
    args = [sys.executable, "-m", "tap_stripe_aep.tap", "--config", str(config), "--catalog", str(catalog_path)]
    proc = subprocess.run(args, cwd=tree, env=env, capture_output=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the tap in {tree} exited {proc.returncode}: {proc.stderr[-2000:].decode()}")
    return proc.stdout


def normalized(output: bytes) -> list[bytes]:
    """Lines without what depends on the wall clock."""
    lines = []
    for line in output.splitlines():
        if line.startswith(b'{"type":"RECORD"'):
            line = _TIME_EXTRACTED.sub(b'"time_extracted":"-"', line)
            # Objects without a creation time (payment links) are ``updated`` at the run's "now".
            line = _UPDATED.sub(lambda m: b'"updated":"<now>"' if m.group(1) >= NOW_ISO else m.group(0), line)
        elif line.startswith(b'{"type":"STATE"'):
            line = json.dumps(_mask_now(json.loads(line))).encode()
        lines.append(line)
    return lines


def _mask_now(value: object) -> object:
    if isinstance(value, dict):
        return {k: _mask_now(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_now(v) for v in value]
    if type(value) is int and value >= NOW:
        return "<now>"
    if isinstance(value, str) and value[:4].isdigit() and value.encode() >= NOW_ISO:
        return "<now>"
    return value


def by_stream(lines: list[bytes]) -> dict[str, list[bytes]]:
    """Each stream's lines in order (SCHEMA, RECORD), each stream's bookmark each time it changed, the last STATE.

    The tap chooses at run time which partition it writes next (``tap_stripe_aep/sync_order.py``), so the order
    across streams, and with it what a STATE line holds of the other streams, may differ from run to run; within
    a stream the lines, and the succession of its bookmarks, must not.
    """
    streams: dict[str, list[bytes]] = {}
    last_state = b""
    for line in lines:
        message = json.loads(line)
        if message["type"] != "STATE":
            streams.setdefault(message.get("stream", message["type"]), []).append(line)
            continue
        last_state = line
        for stream, bookmark in (message["value"].get("bookmarks") or {}).items():
            mark = json.dumps(bookmark, sort_keys=True).encode()
            states = streams.setdefault(f"{stream} (state)", [])
            if not states or states[-1] != mark:
                states.append(mark)
    streams["last STATE"] = [last_state]
    return streams


def differences(expected: list[bytes], actual: list[bytes], limit: int = 5) -> list[str]:
    found = []
    if len(expected) != len(actual):
        found.append(f"{len(expected)} lines against {len(actual)}")
    for number, (a, b) in enumerate(zip(expected, actual, strict=False), start=1):
        if a != b:
            at = next(i for i in range(min(len(a), len(b)) + 1) if i >= min(len(a), len(b)) or a[i] != b[i])
            start = max(0, at - 150)
            found.append(f"line {number}, byte {at}:\n  - ...{a[start : at + 150]!r}\n  + ...{b[start : at + 150]!r}")
            if len(found) >= limit:
                break
    return found


def compare(label: str, expected: bytes, actual: bytes) -> bool:
    left, right = normalized(expected), normalized(actual)
    records = sum(line.startswith(b'{"type":"RECORD"') for line in left)
    if left == right:
        print(f"{label}: identical ({len(left):,} lines, {records:,} records)")
        return True
    left_streams, right_streams = by_stream(left), by_stream(right)
    if left_streams == right_streams:
        print(f"{label}: identical per stream, in another order across streams ({len(left):,} lines)")
        return True
    successions = {name for name in set(left_streams) | set(right_streams) if name.endswith(" (state)")}
    differing = [name for name in sorted(successions) if left_streams.get(name) != right_streams.get(name)]
    others = (set(left_streams) | set(right_streams)) - successions
    if all(left_streams.get(name) == right_streams.get(name) for name in others):
        print(
            f"{label}: identical records per stream and the same last STATE ({len(left):,} lines); the succession "
            f"of bookmarks differs in {len(differing)} stream(s), by timing: {', '.join(differing)}"
        )
        return True
    print(f"{label}: DIFFERENT")
    for stream in sorted(others):
        problems = differences(left_streams.get(stream, []), right_streams.get(stream, []))
        if problems:
            print(f"  stream {stream}:\n    " + "\n    ".join(problems))
    return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="compare_tap_output.py", description=__doc__)
    parser.add_argument("--baseline", default="main", help="the git ref to compare with")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--streams", default="all", help="all, classic (bench_tap's 22), or a,b,c")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from bench.bench_tap import CLASSIC_STREAMS
    from tests.tap.tap_runner import catalog_selecting

    streams = {"all": None, "classic": CLASSIC_STREAMS}.get(args.streams, args.streams.split(","))
    catalog = catalog_selecting(streams)
    with baseline_tree(args.baseline) as base, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with emulator_from(base, args.customers) as url:
            expected = run_tap(base, url, catalog, work)
        with emulator_from(base, args.customers) as url:
            tap_changed = run_tap(REPO_ROOT, url, catalog, work)
        with emulator_from(REPO_ROOT, args.customers) as url:
            emulator_changed = run_tap(REPO_ROOT, url, catalog, work)
    same = compare(f"tap of this tree vs {args.baseline}'s (emulator of {args.baseline})", expected, tap_changed)
    same &= compare(f"emulator of this tree vs {args.baseline}'s (tap of this tree)", tap_changed, emulator_changed)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
