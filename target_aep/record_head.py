"""A RECORD line's stream read from the line's head, without decoding the line (for the mapping pool).

With `mapping_workers` the main process does not map a record: a worker decodes its line and maps it. Decoding
every RECORD line in the main process as well, only to learn where it goes, was about 18% of the main process's
CPU. Without workers the pool decodes the line too, with its chunk, one stream's lines in a row (`map_lines`):
on input where the stream changes at almost every line that costs less than decoding each as it is read
(docs/benchmarks.md, issue 10 session 7; reading the head costs 1-1.5 µs a line). What the main process
must know of a RECORD line before handing it over is its type and its stream; both open the line in the shapes
taps write (the SDK's compact writer and this tap's: ``{"type":"RECORD","stream":
"charges","record":{...``; ``json.dumps``'s default spacing: ``{"type": "RECORD", "stream": "charges",
"record": {...``). ``record_stream`` reads them there and answers None (decode the line) for anything else.

Reading the head gives the same answer as decoding the whole line only if nothing later in the line overrides
it. JSON decoders keep the *last* value of a repeated key, so a second top-level ``"stream"`` would move the
record to another stream: a line with ``"stream"`` anywhere after its head is decoded (Stripe records do not
use the word as a key; a record that does only costs a decode). A key spelled with ``\\u`` escapes (``"s\\u0074ream"``)
could hide one, so a line with an escaped ASCII letter (``\\u0041``-``\\u007f``) is decoded too. A second top-level
``"type"`` cannot be ruled out the same way (two records in three have a ``"type"`` field of their own): the
worker, which decodes the line anyway, checks that the line is the RECORD of this stream it was read as
(`mapping_workers.map_lines`), and a line that is not fails the run naming the line (``reader.RepeatedKeyError``)
before any STATE covers it. Whether the line is JSON at all is also the worker's to find: a malformed line
fails the run with its line number, as the reader does (``reader.decode_message``), when its turn comes.
"""

from __future__ import annotations

import re

# The head in both writers' spacings (the same spacing throughout: `\\1`), up to the record's opening brace; a name
# with an escape (`\\`) is left to the decoder. A regular expression: a third cheaper than testing each shape.
_HEAD = re.compile(rb'\{"type":( ?)"RECORD",\1"stream":\1"([^"\\]*)",\1"record":\1\{')
_ESCAPED_ASCII = b"\\u00"


# The last head read and its stream: a tap writes one stream's records in a row, and a line opening with the very
# bytes of the last head (up to the record's brace, so the name and its closing quote included) has the same
# match, found by `startswith` in a tenth of the regular expression's time.
_last_head: tuple[bytes, str] | None = None


def record_stream(line: bytes) -> str | None:
    """The stream of a RECORD ``line`` read from its head, or None when the line must be decoded to know."""
    global _last_head
    if _last_head is not None and line.startswith(_last_head[0]):
        body = len(_last_head[0])
        stream = _last_head[1]
    else:
        head = _HEAD.match(line)
        if head is None:
            return None
        body = head.end()
        try:
            stream = head.group(2).decode("utf-8")
        except UnicodeDecodeError:  # the decoder names the line
            return None
        _last_head = (line[:body], stream)
    if line.find(b'"stream"', body) != -1 or _escapes_ascii(line, body):
        return None
    return stream


def _escapes_ascii(line: bytes, start: int) -> bool:
    """Whether ``line`` holds a ``\\u00XX`` escape of a printable ASCII character from ``start`` on (a letter of
    a key could be spelled so). Other escapes (``\\n``, ``\\"``, non-ASCII ``\\u``) never spell a letter."""
    if line.find(b"\\", start) == -1:  # a one-byte search (memchr): most lines have no escape at all
        return False
    at = line.find(_ESCAPED_ASCII, start)
    while at != -1:
        if line[at + 4 : at + 5] in (b"4", b"5", b"6", b"7"):
            return True
        at = line.find(_ESCAPED_ASCII, at + 4)
    return False
