"""A RECORD line's stream read from the line's head, without decoding the line (for the mapping workers).

With `mapping_workers` the main process does not map a record: a worker decodes its line and maps it. Decoding
every RECORD line in the main process as well, only to learn where it goes, was about 18% of the main process's
CPU. What the main process must know of a RECORD line before handing it over is its type and its stream; both
open the line in the shapes taps write (the SDK's compact writer and this tap's: ``{"type":"RECORD","stream":
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

# (head up to the stream name, what follows the name up to the record's opening brace), per writer's spacing.
_SHAPES = (
    (b'{"type":"RECORD","stream":"', b'","record":{'),
    (b'{"type": "RECORD", "stream": "', b'", "record": {'),
)
_ESCAPED_ASCII = b"\\u00"


def record_stream(line: bytes) -> str | None:
    """The stream of a RECORD ``line`` read from its head, or None when the line must be decoded to know."""
    for head, after_name in _SHAPES:
        if not line.startswith(head):
            continue
        start = len(head)
        end = line.find(b'"', start)
        if end == -1 or not line.startswith(after_name, end):
            return None
        name = line[start:end]
        if b"\\" in name:  # an escape in the name: the decoder's business
            return None
        body = end + len(after_name)
        if line.find(b'"stream"', body) != -1 or _escapes_ascii(line, body):
            return None
        try:
            return name.decode("utf-8")
        except UnicodeDecodeError:  # the decoder names the line
            return None
    return None


def _escapes_ascii(line: bytes, start: int) -> bool:
    """Whether ``line`` holds a ``\\u00XX`` escape of a printable ASCII character from ``start`` on (a letter of
    a key could be spelled so). Other escapes (``\\n``, ``\\"``, non-ASCII ``\\u``) never spell a letter."""
    at = line.find(_ESCAPED_ASCII, start)
    while at != -1:
        if line[at + 4 : at + 5] in (b"4", b"5", b"6", b"7"):
            return True
        at = line.find(_ESCAPED_ASCII, at + 4)
    return False
