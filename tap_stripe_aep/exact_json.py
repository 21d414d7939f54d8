"""JSON in and out at orjson's speed, with exactly the values and bytes the standard library gives.

At Stripe's live-mode ceiling (10,000 objects/s) the tap's CPU per object is what limits it, and the stdlib
``json`` module was a large share of it: decoding each page (~27 µs an object) and encoding each RECORD line
(~30 µs). orjson does both several times faster. But the tap's output must not change with the library:

- **Decoding** a valid UTF-8 JSON document, orjson and ``json.loads`` build equal values (same types, same key
  order, the last of duplicate keys), except for integers beyond 64 bits (orjson: a float), which a body with
  nineteen digits in a row is checked for first. What orjson refuses (``NaN``, lone surrogates, invalid UTF-8,
  deep nesting) goes to ``json.loads`` as before, so nothing that read before fails now.
- **Encoding**, the stdlib (``ensure_ascii``, compact separators) and orjson write the same bytes for strings,
  integers, booleans, null, lists and dicts, with three exceptions: orjson writes non-ASCII characters as UTF-8
  (the stdlib as ``\\uXXXX``), leaves DEL (0x7f) unescaped, and formats some floats differently (``2.5e-7`` for
  ``2.5e-07``, ``0.00001`` for ``1e-05``). :func:`record_line` keeps orjson's line only when none of these can
  have happened; otherwise, and for anything orjson refuses (big integers, non-string keys, Decimal), the stdlib
  encoder writes it. On Stripe's data almost every line takes the fast path; the slow one is today's encoder.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import orjson

_UTF8 = frozenset({"utf-8", "utf8"})
# orjson reads an integer beyond 64 bits as a float (json: an int). The shortest such literal has 19 digits
# (-9223372036854775809, below -2**63), so a run of 19 digits sends the data to json: every digit becomes "0" and a
# substring search finds the run. A long digit string inside a JSON string does too (harmless: json reads it right).
# About 3 ns a byte, a fifth of a stdlib decode; no regular expression scanned a page under 40 µs an object.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


def may_hold_big_integer(data: bytes) -> bool:
    """Whether JSON ``data`` may hold an integer orjson would read as a float (the tap's pages, the target's lines)."""
    return _LONG_DIGIT_RUN in data.translate(_DIGITS_TO_ZERO)


# A float token of a compact JSON line: after ':' ',' or '[' and before ',' '}' or ']'. Floats inside strings can
# match too; they are checked like real ones, and at worst send that line to the stdlib encoder.
# "-" first: re looks for the literal it starts with, and in JSON text "-" is rarer than "e" (a plain ``b"e-" in``
# stops at every "e"): 1.3 against 2.0 µs a charge. The lookbehind then asks for a digit and "e" before it.
_NEGATIVE_EXPONENT = re.compile(rb"-(?<=\de-)")
_FLOAT_TOKEN = re.compile(rb"[:,\[](-?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+))(?=[,}\]])")


class NonFiniteFloat(float):
    """``NaN``/``Infinity`` read by the stdlib fallback. orjson would write them as ``null``; it refuses a float
    subclass instead, so such a line goes to the stdlib encoder and keeps ``NaN`` as the tap always wrote it."""


def decode_page(body: bytes, encoding: str | None) -> Any:
    """A response body's JSON (``encoding`` as the HTTP headers declared it); raises ValueError when it is not
    JSON (a body cut short), as ``json.loads`` did."""
    if encoding is not None and encoding.lower() in _UTF8 and not may_hold_big_integer(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # something orjson refuses but json may accept: decided below, as before
    text = str(body, encoding or "utf-8", errors="replace")
    return json.loads(text, parse_constant=lambda name: NonFiniteFloat(name))


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


_stdlib_encode = json.JSONEncoder(separators=(",", ":"), default=_default).encode
# Subclasses of str/int/dict/list, dataclasses and datetimes go to the stdlib encoder, which writes them its own way
# (a str enum by its value, a datetime through ``_default``); orjson would raise for them with these options.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
# The newline written by orjson into the same buffer: ``line + b"\n"`` copied every RECORD line once more.
_RECORD_LINE_OPTIONS = _ORJSON_OPTIONS | orjson.OPT_APPEND_NEWLINE


def message_line(message: dict[str, Any]) -> bytes:
    """A Singer message as one JSON line with its newline, by the stdlib encoder (SCHEMA, STATE: a few a run)."""
    return _stdlib_encode(message).encode() + b"\n"


def record_line(message: dict[str, Any]) -> bytes:
    """A RECORD message (JSON values only: what Stripe sent and the tap's strings) as one JSON line with its
    newline, byte for byte what :func:`message_line` writes, by orjson whenever that gives the same bytes."""
    try:
        line = orjson.dumps(message, option=_RECORD_LINE_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: a type or value it does not write the stdlib's way
        return message_line(message)
    if line.isascii() and b"\x7f" not in line and _floats_as_stdlib(line):
        return line
    return message_line(message)


def _floats_as_stdlib(line: bytes) -> bool:
    # Both libraries write a float's shortest round-trip digits; they differ only in notation, and only below
    # 1e-4, where the stdlib always writes an exponent ("1e-05") and orjson writes either "0.00001" or "2.5e-7".
    # So a line with no "0.0000" and no "e-" after a digit holds no float written differently: the common case,
    # decided in two searches (the token scan below costs as much as the stdlib encoder itself). Text such as
    # "One-off" or "e-mail" has no digit before its "e-".
    if b"0.0000" not in line and _NEGATIVE_EXPONENT.search(line) is None:
        return True
    for match in _FLOAT_TOKEN.finditer(line):
        token = match.group(1)
        if float.__repr__(float(token)).encode() != token:
            return False
    return True
