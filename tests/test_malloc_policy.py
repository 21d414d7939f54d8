"""glibc's malloc settings both plugins ask for (`stripe_aep_shared.malloc_policy`): they take, cost no
subprocess, and the tap's command line bounds its arenas before its threads start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stripe_aep_shared.malloc_policy import bound_malloc_arenas, keep_large_buffers_on_mmap

ON_GLIBC = sys.platform.startswith("linux")

# Eight threads alive at once, each allocating outside Python's small-object allocator: glibc gives each its own
# arena up to its limit; malloc_stats() prints one "Arena N:" paragraph per arena on stderr.
ARENAS_AFTER_EIGHT_THREADS = """
import ctypes, threading
held, barrier = [], threading.Barrier(8)
def allocate():
    held.append(bytearray(64 * 1024))
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
ctypes.CDLL(None).malloc_stats()
"""

TAP_ABOUT_THEN_THREADS = """
import sys
sys.argv = ["tap-stripe-aep", "--about"]
from tap_stripe_aep.tap import TapStripeAEP
try:
    TapStripeAEP.cli()
except SystemExit:
    pass
"""


def _arenas(code: str) -> int:
    stderr = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    return sum(line.startswith("Arena ") for line in stderr.splitlines())


def test_glibc_takes_both_settings_without_a_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is glibc (Linux here) `mallopt` answers 1; `ctypes.util.find_library` would run ldconfig."""

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_subprocess)
    assert keep_large_buffers_on_mmap() is ON_GLIBC
    assert bound_malloc_arenas(8) is ON_GLIBC  # above what this test process has: changes nothing here


@pytest.mark.skipif(not ON_GLIBC, reason="malloc_stats and arenas are glibc's")
@pytest.mark.timeout(60)
def test_the_tap_command_line_bounds_malloc_arenas_before_its_threads() -> None:
    assert _arenas(ARENAS_AFTER_EIGHT_THREADS) > 2  # the probe does see one arena a thread without the bound
    assert _arenas(TAP_ABOUT_THEN_THREADS + ARENAS_AFTER_EIGHT_THREADS) <= 2
