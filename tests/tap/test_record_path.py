"""The tap's cheaper record path writes exactly what the SDK's own path wrote with the stdlib encoder.

``record_path.FastRecordPath`` skips the SDK's per-record steps that are identities for this tap and
``exact_json`` encodes with orjson where the bytes are the stdlib's. These tests run records through both paths
in-process (no HTTP: what is compared is the writing, not the reading) and compare the lines byte for byte and
the state they leave; ``scripts/compare_tap_output.py`` does the same for whole runs against another commit.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.helpers._util import utc_now

from tap_stripe_aep import writer
from tap_stripe_aep.exact_json import NonFiniteFloat, decode_page, message_line, record_line
from tap_stripe_aep.record_path import _ExtractionClock, extraction_clock
from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import FULL_KEY, catalog_selecting

pytestmark = pytest.mark.timeout(60)

SAMPLES = Path(__file__).parent.parent / "data_files" / "stripe_records"
ACCOUNT = {"account_id": "acct_emulator_platform"}
_TIME_EXTRACTED = re.compile(rb'"time_extracted":"[^"]*"')
# Values the two encoders write differently unless exact_json steps in: non-ASCII, DEL, floats below 1e-4 (orjson
# "0.00001" and "2.5e-7" against "1e-05" and "2.5e-07"), NaN read by the fallback decoder, a 70-bit integer.
TRICKY: dict[str, Any] = {
    "description": "Café Zürich \u2013 東京 \x7f end",
    "metadata": {"rate": "1e-5", "note": "x:1.50,y", "nested": {"k": [0.1, 1e16, -0.0]}},
}
TRICKY_FLOATS = [1e-05, 2.5e-07, 6.160944012998893e-05, 0.0001, 123456789.125, 1.7976931348623157e308, 5e-324]


def _charges() -> list[dict[str, Any]]:
    charges: list[dict[str, Any]] = json.loads((SAMPLES / "charges.json").read_text())
    tricky = [
        {**copy.deepcopy(charges[0]), "id": "ch_tricky_text", **TRICKY},
        {**copy.deepcopy(charges[1]), "id": "ch_tricky_floats", "metadata": {"f": TRICKY_FLOATS}},
        {**copy.deepcopy(charges[2]), "id": "ch_non_finite", "metadata": decode_page(b'{"a":NaN}', "utf-8")},
        {**copy.deepcopy(charges[0]), "id": "ch_big_int", "amount": 2**70},
    ]
    for index, charge in enumerate(charges + tricky):
        charge["updated"] = f"2024-03-17T22:0{index}:19Z"
        charge["account_id"] = ACCOUNT["account_id"]
    return charges + tricky


def _charges_stream(catalog: dict[str, Any] | None = None) -> StripeStream:
    config = {"api_key": FULL_KEY, "api_url": "http://127.0.0.1:9"}  # never called: nothing here reads Stripe
    tap = TapStripeAEP(config=config, catalog=catalog or catalog_selecting(["charges"]), validate_config=False)
    stream = tap.streams["charges"]
    assert isinstance(stream, StripeStream)
    return stream


def _write(stream: StripeStream, records: list[dict[str, Any]]) -> tuple[list[bytes], dict[str, Any]]:
    """Each record through the SDK's three per-record hooks, as ``_sync_records`` calls them: lines and state."""
    context = dict(ACCOUNT)
    state = stream.get_context_state(context)
    stream.remember_partition_state(context, state)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved, sys.stdout = sys.stdout, out
    try:
        for record in copy.deepcopy(records):
            stream._process_record(record, child_context=dict(context), partition_context=context)
            stream._write_record_message(record)
            stream._increment_stream_state(record, context=context)
        out.flush()
    finally:
        sys.stdout = saved
    return out.buffer.getvalue().splitlines(), copy.deepcopy(state)  # type: ignore[attr-defined]


def _without_time_extracted(lines: list[bytes]) -> list[bytes]:
    return [_TIME_EXTRACTED.sub(b'"time_extracted":"-"', line) for line in lines]


def _take_the_sdks_own_path(patch: pytest.MonkeyPatch) -> None:
    """The SDK's record path and message writer, which the fast path's output is compared against."""
    patch.setattr(writer, "record_line", message_line)
    patch.setattr(StripeStream, "_records_pass_through", lambda self: False)
    patch.setattr(StripeStream, "_bookmark_is_last_value", lambda self: False)


def test_fast_path_lines_and_state_are_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _charges()
    fast = _charges_stream()
    assert fast._records_pass_through(), "the fast path is what this test is about"
    fast_lines, fast_state = _write(fast, records)
    with monkeypatch.context() as patch:
        _take_the_sdks_own_path(patch)
        sdk_lines, sdk_state = _write(_charges_stream(), records)
    assert len(fast_lines) == len(records)
    # the extraction time as the SDK's writer wrote it: isoformat, microseconds, UTC offset (the clock differs)
    assert all(re.search(rb'"time_extracted":"\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}\+00:00"}$', line) for line in fast_lines)
    fast_lines, sdk_lines = _without_time_extracted(fast_lines), _without_time_extracted(sdk_lines)
    for fast_line, sdk_line in zip(fast_lines, sdk_lines, strict=True):
        assert fast_line == sdk_line
    assert b"Caf\\u00e9 Z\\u00fcrich" in fast_lines[-4] and b"\\u007f" in fast_lines[-4]
    assert b'"f":[1e-05,2.5e-07,6.160944012998893e-05,0.0001,' in fast_lines[-3]
    assert b'"metadata":{"a":NaN}' in fast_lines[-2]
    assert f'"amount":{2**70}'.encode() in fast_lines[-1]
    assert fast_state == sdk_state
    assert fast_state["replication_key_value"] == records[-1]["updated"]


def test_a_deselected_property_takes_the_sdks_path_and_is_left_out() -> None:
    catalog = catalog_selecting(["charges"])
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "charges")
    entry["metadata"].append({"breadcrumb": ["properties", "billing_details"], "metadata": {"selected": False}})
    stream = _charges_stream(catalog)
    assert not stream._records_pass_through()
    lines, _ = _write(stream, _charges()[:3])
    written = [json.loads(line)["record"] for line in lines]
    assert [r["id"] for r in written] == [c["id"] for c in _charges()[:3]]
    assert all("billing_details" not in r and "amount" in r for r in written)


def test_a_record_without_updated_leaves_the_bookmark_as_the_sdk_does() -> None:
    records = _charges()[:3]
    records[-1]["updated"] = None
    _, state = _write(_charges_stream(), records)
    assert state["replication_key_value"] == records[1]["updated"]


@pytest.mark.parametrize(
    "value",
    [*TRICKY_FLOATS, "é", "\x7f", "\x00\x1f\u2028", 2**64, {"k": (1, 2)}, NonFiniteFloat("inf"), -0.0],
)
def test_record_line_is_the_stdlib_line(value: Any) -> None:
    message = {"type": "RECORD", "stream": "s", "record": {"v": value, "w": [value, {"z": value}]}}
    assert record_line(message) == message_line(message)


@pytest.mark.parametrize("text", ["One-off charge", "e-", "", "0.0000"])
@pytest.mark.parametrize("value", [*TRICKY_FLOATS, 12.5, 1e16])
def test_record_line_is_the_stdlib_line_next_to_text_that_looks_like_a_float(text: str, value: float) -> None:
    # "e-" in text sends a line to a closer look, which must still find the float orjson writes its own way
    message = {"type": "RECORD", "stream": "s", "record": {"description": text, "v": value}}
    assert record_line(message) == message_line(message)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"a":2,"b":[1.5,-0,1e-05]}',
        b"[NaN,Infinity]",
        b'["\\ud800"]',
        b"[18446744073709551616]",
        b"[-9223372036854775809]",
        "é".encode(),
    ],
)
def test_decode_page_reads_what_json_loads_read(body: bytes) -> None:
    try:
        expected = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        with pytest.raises(ValueError):
            decode_page(body, "utf-8")
        return
    decoded = decode_page(body, "utf-8")
    assert json.dumps(decoded) == json.dumps(expected)


@pytest.mark.parametrize(
    "epoch_microseconds",
    [
        0,
        1,
        999_999,
        1_000_000,
        1_710_712_939_000_000,
        1_710_712_939_000_001,
        1_710_712_939_123_450,
        4_102_444_799_999_999,
    ],
)
def test_time_extracted_is_the_sdks_isoformat(epoch_microseconds: int) -> None:
    """``time_extracted`` as ``utc_now().isoformat()`` writes the same instant (no fraction on a whole second)."""
    instant = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(microseconds=epoch_microseconds)
    clock = _ExtractionClock()
    assert clock.format(epoch_microseconds) == instant.isoformat()
    assert clock.format(epoch_microseconds + 1_000_000) == (instant + datetime.timedelta(seconds=1)).isoformat()
    before = utc_now()
    assert before <= datetime.datetime.fromisoformat(extraction_clock.now()) <= utc_now()


def _sync_partition(stream: StripeStream, records: list[dict[str, Any]]) -> tuple[list[bytes], dict[str, Any]]:
    """The partition's whole record loop, ``_sync_records(context)`` as ``interleave.py`` runs it, over
    ``records`` in place of a read: every line written and the tap's state after."""

    def get_records(self: StripeStream, context: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        self.remember_partition_state(context, self.get_context_state(context))
        yield from copy.deepcopy(records)

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    saved, sys.stdout = sys.stdout, out
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(StripeStream, "get_records", get_records)
            yielded = list(stream._sync_records(context=dict(ACCOUNT)))
        out.flush()
    finally:
        sys.stdout = saved
    assert [r["id"] for r in yielded] == [r["id"] for r in records]
    return out.buffer.getvalue().splitlines(), copy.deepcopy(stream.tap_state)  # type: ignore[attr-defined]


def test_the_partition_loop_writes_what_the_sdks_loop_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _charges()
    del records[1]["account_id"]  # filled from the partition, as _process_record fills it
    records[2]["updated"] = None  # the SDK's own bookmark step (it warns and keeps the previous value)
    fast = _charges_stream()
    with monkeypatch.context() as patch:
        patch.setattr(StripeStream, "_write_record_message", lambda self, record: pytest.fail("the SDK's hook"))
        fast_lines, fast_state = _sync_partition(fast, records)
    with monkeypatch.context() as patch:
        _take_the_sdks_own_path(patch)
        sdk_lines, sdk_state = _sync_partition(_charges_stream(), records)
    assert len(fast_lines) == len(records) + 1  # and the partition's STATE line
    assert json.loads(fast_lines[1])["record"]["account_id"] == ACCOUNT["account_id"]
    assert _without_time_extracted(fast_lines) == _without_time_extracted(sdk_lines)
    assert fast_state == sdk_state
    partition = fast_state["bookmarks"]["charges"]["partitions"][0]
    assert partition["replication_key_value"] == records[-1]["updated"]
    assert "progress_markers" not in partition  # finalized, as the SDK's loop finalizes it
