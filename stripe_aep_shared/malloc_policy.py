"""glibc's malloc told how a long run uses memory, so that a long run's RSS stays where a short run's is.

Both plugins free most of what they allocate soon after (a page of Stripe objects once its records are written, a
batch's buffer once it is delivered), but glibc keeps freed memory in its heaps rather than give it back. Two of
its adaptive behaviours made RSS grow with the length of a run while the objects held stayed flat:

- **The mmap threshold.** A block of 128 KB or more is served from its own ``mmap`` (given back whole on
  ``free``), but glibc raises that threshold to the size of each such block freed, up to 32 MB: after the first
  large buffers, every one comes from the heap, where buffers grown and freed at different times leave holes the
  heap keeps. Fixing the threshold at its default (``M_MMAP_THRESHOLD``, which also stops the adjustment) keeps
  large buffers on ``mmap``: growing one is an ``mremap``, freeing one returns it. The target's 52 streams'
  batch buffers: RSS at the end of input 175 MB for 1,000,000 records against 151 MB for 100,000, with the same
  47 MB of lines held (docs/benchmarks.md, issue 10 session 4: target).
- **Arenas.** Each thread that finds the main heap busy gets an arena of its own (up to 8 a core), and each arena
  keeps its own free memory: the tap's 10-20 request threads each decode pages into theirs, so memory freed in one
  thread's arena is no help to another's. ``M_ARENA_MAX`` bounds how many arenas the process creates.

Each plugin chooses what it asks for (the target in ``TargetAEP.listen``, the tap in ``TapStripeAEP.invoke``).
Anything but glibc (macOS, musl) is left as it is. ``mallopt`` is looked up among the process's own symbols
(``ctypes.CDLL(None)``: the Python binary is linked against libc) rather than with ``ctypes.util.find_library``,
which runs ``ldconfig -p`` in a subprocess on Linux.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's own default, kept fixed


def _glibc_mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None where there is none to ask."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt


def keep_large_buffers_on_mmap() -> bool:
    """Fix glibc's mmap threshold at its default (see the module docstring); False where there is no glibc."""
    mallopt = _glibc_mallopt()
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def bound_malloc_arenas(count: int) -> bool:
    """At most ``count`` malloc arenas from now on (see the module docstring); False where there is no glibc.

    Arenas already created stay: call it before the threads it is meant for start.
    """
    mallopt = _glibc_mallopt()
    return mallopt is not None and bool(mallopt(M_ARENA_MAX, count))
