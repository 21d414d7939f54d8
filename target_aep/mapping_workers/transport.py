"""What crosses a pipe between the main process and a mapping worker, and how: frames of lines in reused buffers.

A chunk goes to a worker as its raw RECORD lines and comes back as their XDM lines, the bulk of every frame. A frame
is a fixed header (`HEADER`: the bytes of its two parts), a small pickled part (`meta`: the line lengths and
whatever else the other side needs) and the lines themselves back to back. The writer hands the lines to one
``writev`` as they are, without joining or pickling them into one object; the reader reads a whole frame into a
buffer it keeps from frame to frame and cuts the lines out of it.

Why not pickle a chunk whole: each frame is 300-600 KB, and glibc serves every block of 128 KB or more from its own
``mmap``, given back on ``free`` (the target fixes that threshold: `malloc_policy`). A pickled chunk, its pickled
reply and the bytes each side received were four such blocks a chunk, each one's pages faulted in anew: with one
worker, 111,000-116,000 page faults on the benchmark's 100,000 records (33,000 without a worker), 50,000 with
frames; the target's CPU fell by about 4% (docs/benchmarks.md, issue 10 session 7). Pickling the lines themselves
was the smaller cost (0.1 s a side).
"""

from __future__ import annotations

import os
import pickle
import struct
import typing as t
from array import array

if t.TYPE_CHECKING:
    from target_aep.mapping_workers.records import Outcome
    from target_aep.xdm.repairs import Repair

# (bytes of the pickled part, bytes of the lines) at the start of every frame
HEADER = struct.Struct("<II")
# writev's limit on the buffers of one call (Linux's IOV_MAX); a chunk's 512 lines and the header fit in one call
_MAX_BUFFERS = 1024


class PipeClosed(EOFError):
    """The other end of the pipe was closed before a whole frame came (its process stopped or ended the run)."""


def write_frame(fd: int, meta: object, lines: t.Sequence[bytes]) -> None:
    """Write one frame: ``meta`` pickled with the lengths of ``lines``, then the lines as they are (see the module
    docstring). Blocks until all of it is in the pipe; raises `OSError` if the reader is gone."""
    lengths = array("I", map(len, lines))
    packed = pickle.dumps((meta, lengths), protocol=pickle.HIGHEST_PROTOCOL)
    buffers: list[t.Any] = [HEADER.pack(len(packed), sum(lengths)), packed, *lines]
    while buffers:
        batch = buffers[:_MAX_BUFFERS]
        written = os.writev(fd, batch)
        done = 0
        for buffer in batch:  # a pipe writes a blocking writev whole, but a signal may cut it short
            size = len(buffer)
            if written < size:
                break
            written -= size
            done += 1
        if written:
            buffers[done] = memoryview(buffers[done])[written:]
        del buffers[:done]


class FrameReader:
    """Reads frames from one pipe into a buffer of its own, kept and reused from frame to frame."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray(HEADER.size)

    def read(self) -> tuple[t.Any, list[bytes]]:
        """The next frame's ``meta`` and lines; `PipeClosed` if the writer closed its end first."""
        self._fill(HEADER.size)
        meta_size, lines_size = HEADER.unpack_from(self._buffer)
        size = meta_size + lines_size
        if len(self._buffer) < size:
            self._buffer = bytearray(size + size // 4)  # room for larger frames to come
        self._fill(size)
        with memoryview(self._buffer) as view:
            meta, lengths = pickle.loads(view[:meta_size])
            lines = []
            start = meta_size
            for length in lengths:
                end = start + length
                lines.append(bytes(view[start:end]))
                start = end
        return meta, lines

    def _fill(self, size: int) -> None:
        with memoryview(self._buffer) as view:
            filled = 0
            while filled < size:
                count = os.readv(self.fd, [view[filled:size]])
                if not count:
                    raise PipeClosed
                filled += count


# The rest of a record's outcome when it is not a plain XDM line: (whether it has a line, reasons, `_id`, repairs)
OutcomeRest = tuple[bool, "list[str] | None", t.Any, "list[Repair] | None"]


def split_outcomes(outcomes: list[Outcome]) -> tuple[list[bytes], dict[int, OutcomeRest]]:
    """A chunk's outcomes as they cross the pipe: the XDM lines in order, and by index the rest of each outcome
    that is more than a line (rejected, not mapped, or repaired: few records)."""
    lines: list[bytes] = []
    rest: dict[int, OutcomeRest] = {}
    for index, (line, reasons, xdm_id, repairs) in enumerate(outcomes):
        if line is None:
            rest[index] = (False, reasons, xdm_id, repairs)
            continue
        lines.append(line)
        if repairs is not None or xdm_id is not None:
            rest[index] = (True, reasons, xdm_id, repairs)
    return lines, rest


def join_outcomes(count: int, lines: list[bytes], rest: dict[int, OutcomeRest]) -> list[Outcome]:
    """The ``count`` outcomes `split_outcomes` gave ``lines`` and ``rest`` for."""
    if not rest:
        return [(line, None, None, None) for line in lines]
    outcomes: list[Outcome] = []
    next_line = iter(lines).__next__
    for index in range(count):
        found = rest.get(index)
        if found is None:
            outcomes.append((next_line(), None, None, None))
        else:
            has_line, reasons, xdm_id, repairs = found
            outcomes.append((next_line() if has_line else None, reasons, xdm_id, repairs))
    return outcomes
