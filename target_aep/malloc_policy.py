"""Batch buffers go back to the system when delivered, so a long run's memory stays where a short run's is.

Each stream's batch grows in one buffer (`line_batch.LineBatch`) until it is delivered and freed. glibc's
`malloc` serves a block of 128 KB or more from its own `mmap` (given back whole on `free`), but raises that
threshold to the size of each such block freed, up to 32 MB: after the first batches, every buffer comes from
the heap, where 52 streams' buffers grown and freed at different times leave holes the heap keeps. On 1,000,000
records RSS at the end of input was 175 MB against 151 MB for 100,000 records, with the same 47 MB of lines held
(docs/benchmarks.md, issue 10 session 4). Fixing the threshold at its default (`mallopt(M_MMAP_THRESHOLD)`,
which also stops the adjustment) keeps large buffers on `mmap`: growing one is an `mremap`, freeing one
returns it. Anything but glibc (macOS, musl) is left as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own default, kept fixed


def keep_large_buffers_on_mmap() -> bool:
    """Fix glibc's mmap threshold (see the module docstring); False where there is no glibc to ask."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
