"""RECORD lines handed to a mapping worker undecoded (`record_head`): the outcome of a full decode, whatever the
line's shape, and a malformed line still fails the run with its line number before any STATE covers it.

Each odd line runs through the CLI with a worker and without one (the main process reads the line's head either
way, and without a worker decodes the line when its chunk is mapped), and through the target with the head reading
off (the reader decodes every line): the same lines land in the same files, the same dead letters in order, the
same STATE.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from target_aep.mapping_workers.pool import CHUNK_RECORDS
from target_aep.record_head import record_stream
from target_aep.target import TargetAEP
from tests.target.conftest import run_target
from tests.target.test_compiled_mapping import SAMPLES
from tests.target.test_mapping_workers import _config, _dead_letters, _odd_input

pytestmark = pytest.mark.timeout(90)

CHARGE = {**SAMPLES["charges"][0], "id": "ch_odd"}


def _charge(n: int, **extra: object) -> dict:
    return {**CHARGE, "id": f"ch_odd_{n}", **extra}


def _compact(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


# A charge in every odd shape, each with the stream a full decode gives it (`charges` unless said).
ODD_LINES = [
    # The SDK's compact writer, time_extracted after the record, and before it.
    _compact({"type": "RECORD", "stream": "charges", "record": _charge(1), "time_extracted": "2026-11-29T10:00:00"}),
    _compact({"type": "RECORD", "stream": "charges", "time_extracted": "2026-11-29T10:00:00", "record": _charge(2)}),
    # Keys in another order; spaces where the writers put none.
    json.dumps({"stream": "charges", "record": _charge(3), "type": "RECORD"}),
    '{ "type" : "RECORD" , "stream" : "charges" , "record" : ' + json.dumps(_charge(4)) + " }",
    # The stream's name escaped: "charges" once decoded.
    '{"type": "RECORD", "stream": "ch\\u0061rges", "record": ' + json.dumps(_charge(5)) + "}",
    # "stream" inside the record: as a key and in a text.
    json.dumps({"type": "RECORD", "stream": "charges", "record": _charge(6, stream="customers")}),
    json.dumps({"type": "RECORD", "stream": "charges", "record": _charge(7, description='"stream": "customers"')}),
    # The stream repeated after the record, plain and escaped: a decoder keeps the last value (charges).
    '{"type": "RECORD", "stream": "customers", "record": ' + json.dumps(_charge(8)) + ', "stream": "charges"}',
    '{"type":"RECORD","stream":"customers","record":' + _compact(_charge(9)) + ',"s\\u0074ream":"charges"}',
    # "type" repeated with the same value.
    '{"type": "RECORD", "stream": "charges", "record": ' + json.dumps(_charge(10)) + ', "type": "RECORD"}',
    # A charge that the mapping rejects (no currency for its amount) and one missing its key: dead-lettered.
    _compact({"type": "RECORD", "stream": "charges", "record": _charge(11, currency=None)}),
    _compact({"type": "RECORD", "stream": "charges", "record": _charge(12, id=None)}),
]


@pytest.mark.parametrize(
    ("line", "stream"),
    [
        (b'{"type":"RECORD","stream":"charges","record":{"id":"x"}}', "charges"),
        (b'{"type": "RECORD", "stream": "charges", "record": {"id": "x"}}', "charges"),
        (b'{"type":"RECORD","stream":"caf\xc3\xa9","record":{}}', "caf\u00e9"),
        (b'{"type":"RECORD","stream":"charges","time_extracted":"t","record":{}}', None),
        (b'{"stream":"charges","type":"RECORD","record":{}}', None),
        (b'{"type": "RECORD","stream":"charges","record":{}}', None),
        (b'{"type":"RECORD","stream":"ch\\u0061rges","record":{}}', None),
        (b'{"type":"RECORD","stream":"ch\\"x","record":{}}', None),
        (b'{"type":"RECORD","stream":"customers","record":{"stream":"charges"}}', None),
        (b'{"type":"RECORD","stream":"customers","record":{},"s\\u0074ream":"charges"}', None),
        (b'{"type":"RECORD","stream":"charges","record":{"name":"\\u00e9t\\u00e9"}}', "charges"),
        (b'{"type":"STATE","value":{}}', None),
    ],
)
def test_the_head_names_the_stream_only_when_the_line_cannot_say_otherwise(line: bytes, stream: str | None) -> None:
    assert record_stream(line) == stream


def _with_odd_lines() -> list[str]:
    """The odd lines among odd records: in the first chunk a worker maps, and in the last (mapped here)."""
    lines = _odd_input(2 * CHUNK_RECORDS + 100, seed=5)
    return lines[:200] + ODD_LINES + lines[200:-1] + ODD_LINES[::2] + lines[-1:]


def _outcome(run_dir: Path) -> tuple[dict, list[dict], str]:
    files = {path.name: sorted(path.read_bytes().split(b"\n")) for path in (run_dir / "out").iterdir()}
    return files, _dead_letters(run_dir / "rejected.jsonl"), (run_dir / "repairs.jsonl").read_text()


def _full_decode_run(run_dir: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The target in this process with the head reading off: the reader decodes every line, and each record
    reaches its sink decoded (the reference). Returns the states written."""
    monkeypatch.setattr("target_aep.reader.record_stream", lambda line: None)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    target = TargetAEP(config=_config(run_dir, 0), validate_config=True)
    target.listen(io.StringIO(text))  # str lines: the reader decodes each (`record_stream` takes bytes)
    monkeypatch.undo()
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_odd_record_lines_land_as_a_full_decode_lands_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a worker and without one (then mapped here, lines still read by their head), against the reference."""
    text = "\n".join(_with_odd_lines()) + "\n"
    reference_dir = tmp_path / "full-decode"
    reference_dir.mkdir()
    assert _full_decode_run(reference_dir, text, monkeypatch) == [{"bookmark": "end"}]
    reference = _outcome(reference_dir)
    outcomes, states = [], []
    for workers in (0, 1):
        run_dir = tmp_path / f"workers-{workers}"
        run_dir.mkdir()
        run = run_target(_config(run_dir, workers), text, run_dir)
        assert run.returncode == 0, run.stderr[-3000:]
        outcomes.append(_outcome(run_dir))
        states.append(run.states)
    assert states[0] == states[1] == [{"bookmark": "end"}]
    for outcome in outcomes:
        assert outcome[0] == reference[0]  # the same lines in each dataset's file
        assert outcome[1] == reference[1]  # the same dead letters, in order
        assert outcome[2] == reference[2]  # the same repairs
    landed = b"\n".join(line for lines in outcomes[1][0].values() for line in lines)
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
        assert landed.count(f"ch_odd_{n}".encode()) >= 1, n
    rejected = [(entry["stream"], entry["reasons"][0][:20]) for entry in outcomes[1][1]]
    assert ("charges", "missing key property") in rejected


def test_a_malformed_record_line_in_a_chunk_fails_with_its_number_before_any_state(tmp_path: Path) -> None:
    lines = _odd_input(3 * CHUNK_RECORDS, seed=7)
    at = 700  # after the STATE of the 500th record, in the middle of the second chunk
    assert lines[at].startswith('{"type": "RECORD"')
    lines[at] = lines[at][: len(lines[at]) // 2]  # cut: its head is a RECORD's, its end is not JSON
    text = "\n".join(lines) + "\n"
    runs = []
    for workers in (0, 1):
        run_dir = tmp_path / f"workers-{workers}"
        run_dir.mkdir()
        runs.append(run_target(_config(run_dir, workers), text, run_dir))
    for run in runs:
        assert run.returncode == 1, run.stderr[-3000:]
        assert f"input line {at + 1} is not valid JSON" in run.stderr
        assert "Traceback" not in run.stderr
        assert all(state["bookmark"] < 500 for state in run.states)  # none past the line
    assert runs[1].states == runs[0].states


def test_a_record_line_repeating_its_type_fails_naming_the_line(tmp_path: Path) -> None:
    """A decoder keeps a repeated key's last value: this line is a STATE to a full decode, a RECORD by its head.
    The worker finds out, and the run stops at that line instead of landing it as the wrong message."""
    lines = _odd_input(CHUNK_RECORDS + 10, seed=9)
    at = 300
    lines.insert(at, '{"type": "RECORD", "stream": "charges", "record": {"id": "ch_x"}, "type": "STATE", "value": {}}')
    run = run_target(_config(tmp_path, 1), "\n".join(lines) + "\n", tmp_path)
    assert run.returncode == 1, run.stderr[-3000:]
    assert f"input line {at + 1} starts as a RECORD message but repeats" in run.stderr
    assert "Traceback" not in run.stderr and run.states == []


def test_a_head_read_again_from_the_last_one_names_the_same_stream_as_the_regular_expression() -> None:
    """`record_stream` reuses the last head it read when a line opens with the same bytes: a stream whose name
    starts with the last one's, another spacing, another stream, a line that is no RECORD after a RECORD, and a
    second `"stream"` after a reused head all get what a fresh read gives."""
    lines = [
        b'{"type":"RECORD","stream":"charges","record":{"id":"a"}}',
        b'{"type":"RECORD","stream":"charges","record":{"id":"b"}}',
        b'{"type":"RECORD","stream":"charges_x","record":{"id":"c"}}',
        b'{"type":"RECORD","stream":"charges","record":{"id":"d"}}',
        b'{"type":"RECORD","stream":"charges","record":{"id":"e"},"stream":"refunds"}',
        b'{"type": "RECORD", "stream": "charges", "record": {"id": "f"}}',
        b'{"type":"RECORD","stream":"charges","record":{"id":"\\u0067"}}',
        b'{"type":"RECORD","stream":"charges"',
        b'{"type":"STATE","value":{}}',
        b'{"type":"RECORD","stream":"refunds","record":{"id":"g"}}',
    ]
    expected = ["charges", "charges", "charges_x", "charges", None, "charges", None, None, None, "refunds"]
    assert [record_stream(line) for line in lines] == expected
    assert [record_stream(line) for line in lines[::-1]] == expected[::-1]
