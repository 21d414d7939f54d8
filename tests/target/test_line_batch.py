"""`LineBatch` (a batch's lines in one buffer) reads, cuts into files and writes exactly as the list it replaced."""

from __future__ import annotations

import io
import random

import pytest

from target_aep.line_batch import LineBatch, batch_files


def test_a_line_batch_is_the_list_of_its_lines() -> None:
    rng = random.Random(10)
    for _ in range(200):
        lines = [bytes(rng.choice(b'a{"\xc3\n') for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(0, 30))]
        lines = [line.replace(b"\n", b"") for line in lines]  # a JSON line never holds a line end
        batch = LineBatch()
        for line in lines:
            batch.append(line)
        assert list(batch) == lines and len(batch) == len(lines) and bool(batch) == bool(lines)
        assert [batch[i] for i in range(-len(lines), len(lines))] == lines + lines and batch[2:5] == lines[2:5]
        limit = rng.randint(1, 100)  # lines longer than a file are a file of their own, as before
        assert batch_files(batch, limit) == batch_files(list(lines), limit)
        written = io.BytesIO()
        batch.write_to(written)
        assert written.getvalue() == b"".join(line + b"\n" for line in lines)


def test_extending_a_line_batch_is_appending_each_line() -> None:
    """`extend` (a chunk's lines of one batch at once) holds what appending them one by one holds, and returns
    their bytes without line ends, what the sink adds to its buffered bytes."""
    rng = random.Random(11)
    for _ in range(100):
        runs = [[b"x" * rng.randint(0, 30) for _ in range(rng.randint(0, 6))] for _ in range(rng.randint(1, 4))]
        one_by_one, extended = LineBatch(), LineBatch()
        for lines in runs:
            for line in lines:
                one_by_one.append(line)
            assert extended.extend(lines) == sum(map(len, lines))
        assert list(extended) == list(one_by_one) and len(extended) == len(one_by_one)
        assert [extended[i] for i in range(len(extended))] == list(one_by_one)


def test_files_are_cut_between_lines_under_the_limit() -> None:
    batch = LineBatch()
    for line in (b"aaaa", b"bb", b"c", b"dddddddddd", b"e"):
        batch.append(line)
    assert batch_files(batch, 8) == [b"aaaa\nbb\n", b"c\n", b"dddddddddd\n", b"e\n"]


def test_a_batch_within_one_file_is_uploaded_from_its_own_buffer() -> None:
    batch = LineBatch()
    for line in (b"aaaa", b"bb"):
        batch.append(line)
    (file,) = batch.files(64)
    assert file == b"aaaa\nbb\n" and isinstance(file, memoryview)  # no copy of the batch a delivery in flight
    with pytest.raises(BufferError):  # and the delivered batch cannot change while it is sent
        batch.append(b"c")
    file.release()
    assert LineBatch().files(64) == []
