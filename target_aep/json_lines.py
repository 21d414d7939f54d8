"""JSON per record, in and out: `orjson` where it gives exactly what the standard library gives, else `json`.

Decoding the input and encoding the XDM were a quarter of the target's time with `json`; `orjson` is several
times faster. The standard library stays the definition of the result, and `orjson` is used only where it
cannot differ from it:

- decoding: `orjson` turns an integer beyond 64 bits into a float (`json` keeps it exact), so a line with a run
  of 19 or more digits goes to `json` (found on the bytes with a translate and a substring search, which is far
  cheaper than a regex). `NaN`, `Infinity`, `1e400`, lone surrogates and very deep nesting are errors for
  `orjson` and go to `json`, which accepts or rejects them as before.
- encoding (`json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`): `orjson` writes some
  floats differently (`1e-7` for `1e-07`, `0.00005` for `5e-05`) and NaN as `null`; XDM records never contain
  `null` (fitting drops it), so an output with a negative exponent, a `0.0000` or a `null` goes to `json`
  (positive exponents are written alike: both write a float from 1e16 up as `1e+16`, never one digit). Values
  `orjson` does not take as plain JSON (subclasses, datetimes, dataclasses, big integers, lone surrogates)
  raise there and go to `json` too, which serializes or raises exactly as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from tap_stripe_aep.exact_json import may_hold_big_integer

_ENCODE_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# Where orjson's number output can differ from json's: an exponent, a small decimal that json writes as an
# exponent, and NaN/Infinity written as null. Number tokens follow `:`, `,` or `[` (no whitespace in this output;
# a top-level scalar goes to json directly), so the pattern starts there: a bare `[0-9]e[-+]` also matched inside
# every `_id` UUID with a `...3e-4...` in it and sent 15% of the lines to the slow encoder for nothing.
_MAY_DIFFER = re.compile(rb"[:,\[]-?[0-9]+(?:\.[0-9]+)?[eE]|[:,\[](?:-?0\.0000|null)")
_stdlib_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# A number token ending where an `e-` starts: looked for only just before each `e-` of a line (a window longer
# than any float's repr), not over the whole line (`_MAY_DIFFER` costs about 10 µs on a 550-byte line, and one
# line in five has an `e-` in its text).
_NUMBER_BEFORE = re.compile(rb"[:,\[]-?[0-9]+(?:\.[0-9]+)?\Z")
_NUMBER_WINDOW = 32


def decode_line(line: str) -> Any:
    """`json.loads(line)`, faster; raises `json.JSONDecodeError` exactly where `json.loads` does."""
    try:
        data = line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the input's decoding: json's business
        return json.loads(line)
    if may_hold_big_integer(data):
        return json.loads(line)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(line)


def decode_line_bytes(data: bytes) -> Any:
    """`json.loads(data.decode("utf-8"))`, faster: the input reader's form, which never builds a `str` of the line.

    Raises `UnicodeDecodeError` for bytes that are not UTF-8 (as reading stdin as text did) and
    `json.JSONDecodeError` exactly where `json.loads` does.
    """
    if may_hold_big_integer(data):
        return json.loads(data.decode("utf-8"))
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # json decides: its result or its error (invalid UTF-8 fails in `decode`)
        return json.loads(data.decode("utf-8"))


def encode_line(value: Any) -> bytes:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`, faster, same bytes."""
    line = _orjson_line(value)
    if line is None or _may_differ(line):
        return _stdlib_encoder.encode(value).encode()
    # orjson's bytes keep the capacity of its write buffer (4 KB or more for a 450-byte line); a batch holds
    # thousands of lines, so keep an exact-size copy (peak memory 515 MB -> 150 MB at 100,000 records).
    return memoryview(line).tobytes()


def encode_fractionless_line(value: Any) -> bytes:
    """`encode_line` for an XDM record already valid for a schema that admits no number with a fraction
    (`XdmValidator.admits_fractions` False): the same bytes without looking for what `_may_differ` looks for.

    Such a record holds no float but integral ones (JSON Schema's `integer` admits `5.0`), which orjson and json
    write alike (`5.0`, `-0.0`, `1e+16`), and no NaN or infinity (no type admits them): nothing of what makes the
    two differ (the module docstring). The look costs three scans of each line (about 2 µs).
    """
    line = _orjson_line(value)
    if line is None:
        return _stdlib_encoder.encode(value).encode()
    return memoryview(line).tobytes()  # an exact-size copy, as `encode_line` keeps


def _orjson_line(value: Any) -> bytes | None:
    """orjson's line for a dict or list it takes as plain JSON; None where json must write it (a top-level
    scalar, or a value orjson refuses: subclasses, datetimes, big integers, lone surrogates)."""
    if type(value) is not dict and type(value) is not list:
        return None
    try:
        return orjson.dumps(value, option=_ENCODE_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None


def _may_differ(line: bytes) -> bool:
    """Whether orjson's ``line`` may differ from json's: a number with a negative exponent, a small decimal, a
    `null` (see the module docstring). Substring tests first: each costs about 1 ns a byte, the regex ten."""
    at = line.find(b"e-")
    while at != -1:
        if _NUMBER_BEFORE.search(line, max(0, at - _NUMBER_WINDOW), at) is not None:
            return True
        at = line.find(b"e-", at + 2)
    return (b"0.0000" in line or b"null" in line) and _MAY_DIFFER.search(line) is not None
