"""What crosses the pipe between the main process and a mapping worker (`mapping_workers.transport`): frames of
lines read back whole and in order, through a real pipe, into a buffer the reader keeps."""

from __future__ import annotations

import os
import threading

import pytest

from target_aep.mapping_workers.transport import (
    HEADER,
    FrameReader,
    PipeClosed,
    join_outcomes,
    split_outcomes,
    write_frame,
)


def _lines(count: int, size: int, tag: str) -> list[bytes]:
    return [f'{{"{tag}":{i},"pad":"{"x" * (size + i % 7)}"}}'.encode() for i in range(count)]


def test_frames_larger_than_the_pipe_come_back_whole_in_order_in_one_reused_buffer() -> None:
    reader_fd, writer_fd = os.pipe()  # the default 64 KB: every frame below is larger
    frames = [({"chunk": n, "keys": list(range(n))}, _lines(300, 400 + 100 * n, f"f{n}")) for n in range(4)]
    frames.append((("error", "no lines"), []))
    writer = threading.Thread(target=lambda: [write_frame(writer_fd, meta, lines) for meta, lines in frames])
    writer.start()
    reader = FrameReader(reader_fd)
    buffers = []
    try:
        for meta, lines in frames:
            assert reader.read() == (meta, lines)
            buffers.append(reader._buffer)
    finally:
        writer.join()
        os.close(writer_fd)
    # Grown for a larger frame only (frames 1-3 are 25% larger each, within the room kept): no buffer a frame.
    assert len({id(buffer) for buffer in buffers}) < len(frames) - 1
    with pytest.raises(PipeClosed):
        reader.read()
    os.close(reader_fd)


def test_a_writer_gone_midway_is_pipe_closed_not_a_short_frame() -> None:
    reader_fd, writer_fd = os.pipe()
    write_frame(writer_fd, "whole", [b"a" * 10])
    os.write(writer_fd, HEADER.pack(16, 65536) + b"partial")  # a header promising more than comes
    os.close(writer_fd)
    reader = FrameReader(reader_fd)
    assert reader.read() == ("whole", [b"a" * 10])
    with pytest.raises(PipeClosed):
        reader.read()
    os.close(reader_fd)


def test_outcomes_cross_as_lines_and_the_few_that_are_more_than_a_line() -> None:
    outcomes = [
        (b'{"_id":"a"}', None, None, None),
        (None, ["missing key property id"], None, None),
        (b'{"_id":"c"}', None, "c", ["a repair"]),
        (None, None, None, None),  # not mapped: a line that was not the RECORD it was read as
        (b'{"_id":"e"}', None, None, None),
    ]
    lines, rest = split_outcomes(outcomes)  # type: ignore[arg-type]
    assert lines == [b'{"_id":"a"}', b'{"_id":"c"}', b'{"_id":"e"}']
    assert sorted(rest) == [1, 2, 3]
    assert join_outcomes(len(outcomes), lines, rest) == outcomes
    plain = [(b"x", None, None, None), (b"y", None, None, None)]
    assert split_outcomes(plain) == ([b"x", b"y"], {})  # type: ignore[arg-type]
    assert join_outcomes(2, [b"x", b"y"], {}) == plain
