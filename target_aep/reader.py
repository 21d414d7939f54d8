"""Singer input reader: plain-float JSON and a clear error for a malformed line.

The SDK's reader parses floats as ``Decimal`` (which ``json.dumps`` cannot write back as XDM) and logs the whole
offending line. This one names the line number and shows only its start. Lines are decoded by
``json_lines.decode_line`` (the same result as ``json.loads``, faster).
"""

from __future__ import annotations

import json

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_aep.json_lines import decode_line


class MalformedInputError(InvalidInputLine):
    """A line on stdin is not a JSON Singer message."""


class AEPMessageReader(SingerReader):
    """Counts lines so errors can point at the one that broke."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0

    def deserialize_json(self, line: str) -> dict:
        self.line_number += 1
        try:
            message = decode_line(line)
        except json.JSONDecodeError as exc:
            shown = line.strip()[:120]
            raise MalformedInputError(
                f"input line {self.line_number} is not valid JSON ({exc.msg} at column {exc.colno}): "
                f"{shown!r}; nothing after the last STATE line was confirmed, rerun from that state"
            ) from None
        if not isinstance(message, dict):
            raise MalformedInputError(f"input line {self.line_number} is JSON but not a Singer message object")
        return message
