"""`json_lines` (orjson where it cannot differ) gives exactly what the standard library gives, in and out."""

from __future__ import annotations

import json
import random
import struct
from typing import Any

import pytest

from target_aep.json_lines import decode_line, decode_line_bytes, encode_line


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 9 if depth < 3 else 5)
    if kind == 0:  # integers up to 70 bits: beyond orjson's 64
        return rng.getrandbits(rng.randint(1, 70)) * rng.choice([1, -1])
    if kind == 1:  # any double, NaN and infinities included
        return struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
    if kind == 2:  # exponent and small-decimal forms
        return rng.random() * 10 ** rng.randint(-25, 25)
    if kind == 3:
        chars = [
            rng.choice([rng.randint(0, 0x7F), rng.randint(0, 0x3000), rng.randint(0x10000, 0x1FFFF)]) for _ in "x" * 9
        ]
        return "".join(map(chr, chars))
    if kind == 4:
        return rng.choice([True, False, None, "null", "1e-5", "0.00001", 1e16, 5e-05])
    if kind == 5:
        return round(rng.uniform(-1e6, 1e6), 2)
    if kind in (6, 7):
        return {str(_random_value(rng, 5))[:8]: _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def _outcome(fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except Exception as exc:  # the exception type is what must match
        return type(exc)


@pytest.mark.timeout(60)
def test_encode_and_decode_match_the_standard_library_on_random_values() -> None:
    rng = random.Random(11)
    for _ in range(20_000):
        value = {"v": _random_value(rng)} if rng.random() < 0.8 else _random_value(rng)
        expected = _outcome(_stdlib, value)
        assert _outcome(encode_line, value) == expected, value
        if isinstance(expected, bytes):
            text = expected.decode()
            assert repr(decode_line(text)) == repr(json.loads(text)), text
            assert repr(decode_line_bytes(expected)) == repr(json.loads(text)), text


@pytest.mark.parametrize(
    "line",
    ["NaN", "[1e400]", '{"a": 123456789012345678901234567890}', '{"a":-9223372036854775809}', '"\\ud800"', "{bad"],
)
def test_decode_edge_cases_behave_like_json_loads(line: str) -> None:
    assert repr(_outcome(decode_line, line)) == repr(_outcome(json.loads, line))


@pytest.mark.parametrize(
    "line",
    [b"NaN", b"[1e400]", b'{"a": 123456789012345678901234567890}', b'"\\ud800"', b"{bad", b"", b'{"a": "\xff"}'],
)
def test_decode_of_bytes_behaves_like_json_loads_of_their_utf8_text(line: bytes) -> None:
    assert repr(_outcome(decode_line_bytes, line)) == repr(_outcome(lambda b: json.loads(b.decode("utf-8")), line))


def test_a_uuid_with_an_e_before_a_dash_stays_on_the_fast_encoder() -> None:
    """`...437e-4...` in an `_id` is not a number's exponent: such lines (15% of the benchmark's) were sent to
    the standard library's encoder, several times slower, for nothing."""
    from target_aep.json_lines import _MAY_DIFFER, _may_differ

    uuid = b'{"_id":"ac30437e-400a-5d87-9e+1-000000000000","n":[1,2.5]}'
    assert _MAY_DIFFER.search(uuid) is None and not _may_differ(uuid)
    for line in (b'{"a":1e-7}', b'{"a":[1,-2.5e+20]}', b'{"a":[0.00005]}', b'{"a":null}', b"[1E5]"):
        assert _MAY_DIFFER.search(line) is not None, line
    # What the encoder checks: a negative exponent (after text with `e-` in it too), a small decimal, a null.
    for line in (b'{"a":1e-7}', b'{"t":"one-time","a":[3,-2.5e-8]}', b'{"a":[0.00005]}', b'{"a":null}'):
        assert _may_differ(line), line
    for line in (b'{"t":"one-time","b":"x1e-7"}', b'{"a":1e+16}', b'{"a":"nothing"}'):
        assert not _may_differ(line), line
