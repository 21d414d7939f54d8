"""`LineBatch`: a batch's XDM lines held in one buffer, so a long run's memory stays where a short run's is.

A batch used to be a list of `bytes`, one object a line. A line of an XDM record is 300-500 bytes: CPython's small
object allocator (`pymalloc`, for objects up to 512 bytes) takes them from 256 KB arenas shared with everything
else the run allocates, and an arena goes back to the system only once every object in it is freed. Lines of 52
streams, each freed when its own stream's batch is delivered, left most arenas partly used: on 1,000,000 records
the allocator held 17 MB of free blocks it could not return and RSS grew by 24 MB over a 100,000-record run with
the same lines buffered (`sys._debugmallocstats()` at the end of input, docs/benchmarks.md). Here a batch is one
growing `bytearray` (outside `pymalloc`, freed whole) and an `array` of line ends, which also saves the 40 bytes
of object header and list slot each line cost.

It is a `Sequence[bytes]`, so what reads a batch line by line (streaming, refused-row tracing) reads it as before;
`files` gives the Batch Ingestion files and `write_to` the `output_dir` write without a copy per line.
"""

from __future__ import annotations

import typing as t
from array import array
from collections.abc import Sequence


class LineBatch(Sequence[bytes]):
    """JSON lines, each stored with its line end, in input order."""

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("q")  # offset just past each line's `\n`

    def append(self, line: bytes) -> None:
        data = self._data
        data += line
        data += b"\n"
        self._ends.append(len(data))

    def extend(self, lines: list[bytes]) -> int:
        """`append` each of ``lines`` in one step; the bytes of the lines, without their line ends."""
        if not lines:
            return 0
        data = self._data
        start = end = len(data)
        ends = self._ends
        for line in lines:
            end += len(line) + 1
            ends.append(end)
        data += b"\n".join(lines)
        data += b"\n"
        return end - start - len(lines)

    def __len__(self) -> int:
        return len(self._ends)

    @t.overload
    def __getitem__(self, index: int) -> bytes: ...
    @t.overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        ends = self._ends
        if index < 0:
            index += len(ends)
        end = ends[index]  # raises IndexError out of range
        start = ends[index - 1] if index else 0
        with memoryview(self._data) as data:  # one copy of the line (a bytearray slice would be a second)
            return bytes(data[start : end - 1])

    def __iter__(self) -> t.Iterator[bytes]:
        start = 0
        for end in self._ends:
            with memoryview(self._data) as data:  # released before the next line: the batch may grow meanwhile
                line = bytes(data[start : end - 1])
            yield line
            start = end

    def write_to(self, handle: t.BinaryIO) -> None:
        """Every line with its line end, in one write."""
        handle.write(self._data)

    def files(self, max_bytes: int) -> list[bytes | memoryview]:
        """The lines cut into files of at most `max_bytes` (each line with its end), never inside a line; a line
        longer than that is a file of its own. As `batch_files` cuts a list.

        A batch that fits in one file (all but the largest) is uploaded from its own buffer, not a copy: with many
        deliveries in flight, a copy each was 10-20 MB of peak memory. The view also keeps the buffer from
        growing while it is sent (a delivered batch is never appended to)."""
        if len(self._data) <= max_bytes:
            return [memoryview(self._data)] if self._data else []
        files: list[bytes | memoryview] = []
        start = previous = 0
        with memoryview(self._data) as data:
            for end in self._ends:
                if previous > start and end - start > max_bytes:
                    files.append(bytes(data[start:previous]))
                    start = previous
                previous = end
            if previous > start:
                files.append(bytes(data[start:previous]))
        return files


def batch_files(lines: Sequence[bytes], max_bytes: int) -> list[bytes | memoryview]:
    """`lines` as JSON-lines files of at most `max_bytes` each (every line ends with `\\n`), cut between lines."""
    if isinstance(lines, LineBatch):
        return lines.files(max_bytes)
    files: list[bytes | memoryview] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > max_bytes:
            current.append(b"")  # the last line's end: one copy of the lines, not a join and a concatenation
            files.append(b"\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        current.append(b"")
        files.append(b"\n".join(current))
    return files
