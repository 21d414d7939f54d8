"""Singer input reader: plain-float JSON and a clear error for a malformed line.

The SDK's reader parses floats as ``Decimal`` (which ``json.dumps`` cannot write back as XDM) and logs the whole
offending line. This one names the line number and shows only its start. Lines are decoded by
``json_lines.decode_line`` (the same result as ``json.loads``, faster).
"""

from __future__ import annotations

import json
import typing as t

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_aep.json_lines import decode_line
from target_aep.state_lag import lines_until_deadlines


class MalformedInputError(InvalidInputLine):
    """A line on stdin is not a JSON Singer message."""


class AEPMessageReader(SingerReader):
    """Counts lines so errors can point at the one that broke."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        # Set by the target (``max_state_lag_seconds``): input is then read so that a deadline passes even
        # while no line arrives (see ``target_aep.state_lag``).
        self.seconds_to_deadline: t.Callable[[], float | None] | None = None
        self.on_deadline: t.Callable[[], None] = lambda: None

    def process_lines(self, file_input: t.IO[str] | None, callbacks: dict[str, t.Callable[[dict], None]]) -> t.Any:
        source = file_input or self.default_input
        if self.seconds_to_deadline is not None:
            source = lines_until_deadlines(source, self.seconds_to_deadline, self.on_deadline)  # type: ignore[assignment]
        return super().process_lines(source, callbacks)

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
