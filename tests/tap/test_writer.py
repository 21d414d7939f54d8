"""The writer on an unbuffered stdout (``PYTHONUNBUFFERED=1``): records are buffered until the next STATE, which
goes out with every record before it, instead of one write system call a record."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator

import pytest
from singer_sdk.singerlib.messages import RecordMessage, StateMessage

from tap_stripe_aep.exact_json import message_line
from tap_stripe_aep.writer import FastSingerWriter


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    yield read_end, write_end
    os.close(read_end)


def _unbuffered_stdout(monkeypatch: pytest.MonkeyPatch, write_end: int) -> None:
    """stdout as ``python -u`` makes it: a text layer straight over the file (set in the test itself: pytest
    puts its own stdout back between a fixture and the test)."""
    stdout = io.TextIOWrapper(io.FileIO(write_end, "wb"), write_through=True)  # type: ignore[arg-type]
    assert type(stdout.buffer) is io.FileIO
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "__stdout__", stdout)


def _available(read_end: int) -> bytes:
    try:
        return os.read(read_end, 1 << 20)
    except BlockingIOError:
        return b""


def test_records_wait_for_their_state_on_an_unbuffered_stdout(
    pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    unbuffered_stdout, write_end = pipe
    _unbuffered_stdout(monkeypatch, write_end)
    writer = FastSingerWriter()
    for n in range(3):
        writer.write_message(RecordMessage(stream="charges", record={"id": f"ch_{n}", "amount": n}))
    assert _available(unbuffered_stdout) == b"", "each record was written on its own"

    writer.write_message(StateMessage(value={"bookmarks": {"charges": {"n": 3}}}))
    lines = [json.loads(line) for line in _available(unbuffered_stdout).splitlines()]
    assert [m.get("record", {}).get("id") for m in lines] == ["ch_0", "ch_1", "ch_2", None]
    assert lines[-1] == {"type": "STATE", "value": {"bookmarks": {"charges": {"n": 3}}}}

    writer.write_message(RecordMessage(stream="charges", record={"id": "ch_3", "amount": 3}))
    sys.stdout.flush()  # what the end of the process (or the tap's stop on a signal) does
    assert json.loads(_available(unbuffered_stdout))["record"]["id"] == "ch_3"


def test_a_state_line_is_the_one_of_the_sdks_message(monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"bookmarks": {"charges": {"partitions": [{"context": {"account_id": "acct_1"}, "x": None, "é": [1.5]}]}}}
    output = io.StringIO()
    monkeypatch.setattr(sys, "stdout", output)
    FastSingerWriter().write_message(StateMessage(value=value))
    assert output.getvalue() == message_line(StateMessage(value=value).to_dict()).decode()


def test_records_follow_sys_stdout_when_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer keeps the buffer its records went to, but only while ``sys.stdout`` is the same object."""
    first, second = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2))
    writer = FastSingerWriter()
    monkeypatch.setattr(sys, "stdout", first)
    writer.write_record_line(b'{"n":1}\n')
    writer.write_record_line(b'{"n":2}\n')
    monkeypatch.setattr(sys, "stdout", second)
    writer.write_record_line(b'{"n":3}\n')
    first.flush()
    second.flush()
    assert first.buffer.getvalue() == b'{"n":1}\n{"n":2}\n'  # type: ignore[attr-defined]
    assert second.buffer.getvalue() == b'{"n":3}\n'  # type: ignore[attr-defined]
