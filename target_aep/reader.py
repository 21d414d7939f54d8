"""Singer input reader: lines read as bytes and decoded once, plain-float JSON, a clear error for a malformed line.

The SDK's reader parses floats as ``Decimal`` (which ``json.dumps`` cannot write back as XDM) and logs the whole
offending line. This one names the line number and shows only its start. Lines stay ``bytes`` from stdin to the
JSON decoder (``json_lines.decode_line_bytes``, the same result as ``json.loads``, faster): no ``str`` of each
line is built only to be encoded back, and a RECORD goes straight to its callback. A RECORD line whose head names
its stream is not decoded here at all (`on_record_line`, `record_head`): it is decoded with its chunk of records
(`mapping_workers.map_lines`: in a worker, or without workers grouped by stream in this process), and a malformed
one still fails the run with its line number (`decode_message`) before any STATE covers it.
"""

from __future__ import annotations

import json
import typing as t
from collections import Counter

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_aep.json_lines import decode_line, decode_line_bytes
from target_aep.record_head import record_stream
from target_aep.state_lag import CHUNK_BYTES, line_chunks_until_deadlines


class MalformedInputError(InvalidInputLine):
    """A line on stdin is not a JSON Singer message."""


class RepeatedKeyError(MalformedInputError):
    """A line read as a RECORD by its head (``record_head``) repeats ``type`` or ``stream`` with another value."""


def decode_message(line: str | bytes, line_number: int) -> dict:
    """The Singer message on input line ``line_number``, or `MalformedInputError` naming that line."""
    try:
        message = decode_line_bytes(line) if type(line) is bytes else decode_line(line)  # type: ignore[arg-type]
    except json.JSONDecodeError as exc:
        shown = _text(line).strip()[:120]
        raise MalformedInputError(
            f"input line {line_number} is not valid JSON ({exc.msg} at column {exc.colno}): "
            f"{shown!r}; nothing after the last STATE line was confirmed, rerun from that state"
        ) from None
    except UnicodeDecodeError as exc:
        raise MalformedInputError(
            f"input line {line_number} is not UTF-8 text (byte {exc.start + 1}: {exc.reason}); nothing "
            "after the last STATE line was confirmed, rerun from that state"
        ) from None
    if not isinstance(message, dict):
        raise MalformedInputError(f"input line {line_number} is JSON but not a Singer message object")
    return message


def repeated_key_error(line_number: int) -> RepeatedKeyError:
    """The error for a line whose head says RECORD of one stream and whose full decode says otherwise."""
    return RepeatedKeyError(
        f'input line {line_number} starts as a RECORD message but repeats its "type" or "stream" key with '
        "another value later in the line (a JSON object's keys should be unique); nothing after the last STATE "
        "line was confirmed, rerun from that state"
    )


def _no_deadline() -> float | None:
    return None


class AEPMessageReader(SingerReader):
    """Counts lines so errors can point at the one that broke."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        # Set by the target (``max_state_lag_seconds``): input is then read so that a deadline passes even
        # while no line arrives (see ``target_aep.state_lag``).
        self.seconds_to_deadline: t.Callable[[], float | None] | None = None
        self.on_deadline: t.Callable[[], None] = lambda: None
        self.current_line: bytes | None = None  # the byte line of the RECORD being handled (see process_lines)
        # Set by the target: (stream, line, line number) -> whether it took the RECORD line undecoded
        # (`record_head`); a line it does not take is decoded here as any other.
        self.on_record_line: t.Callable[[str, bytes, int], bool] | None = None
        # Reads of the input, and how many were full (`line_chunks_until_deadlines`): a pipe full, its writer waiting on
        # the target, or a file (the end-of-run log says both).
        self.input_reads = 0
        self.input_full = 0

    def process_lines(self, file_input: t.IO[str] | None, callbacks: dict[str, t.Callable[[dict], None]]) -> t.Any:
        """The SDK's loop (``GenericSingerReader.process_lines``: decode, require ``type``, call back by type,
        count), over the byte lines of ``line_chunks_until_deadlines`` and with one dict look-up fewer per RECORD."""
        source = file_input or self.default_input
        line_chunks = line_chunks_until_deadlines(
            source, self.seconds_to_deadline or _no_deadline, self.on_deadline, self._count_read
        )
        counts: dict[str, int] = {}
        on_record = callbacks.get("RECORD")
        on_record_line = self.on_record_line if on_record is not None else None
        records = 0
        for lines in line_chunks:
            for line in lines:
                if (
                    on_record_line is not None
                    and type(line) is bytes
                    and (stream := record_stream(line)) is not None
                    and on_record_line(stream, line, self.line_number + 1)
                ):
                    self.line_number += 1
                    records += 1
                    continue
                message = self.deserialize_json(line)  # type: ignore[arg-type]
                message_type = message.get("type")
                if message_type == "RECORD" and on_record is not None:
                    # The line as read, for a mapping worker to decode again (`mapping_workers`): only while its
                    # RECORD is being handled.
                    self.current_line = line if type(line) is bytes else None
                    on_record(message)
                    self.current_line = None
                    records += 1
                    continue
                self.assert_line_requires(message, requires={"type"})
                if callback := callbacks.get(message_type):  # type: ignore[arg-type]
                    callback(message)
                else:
                    self._process_unknown_message(message)
                counts[message_type] = counts.get(message_type, 0) + 1  # type: ignore[index]
        if records:
            counts["RECORD"] = counts.get("RECORD", 0) + records
        return Counter(**counts)

    def _count_read(self, size: int) -> None:  # in the reading thread, the only one counting
        self.input_reads += 1
        if size == CHUNK_BYTES:
            self.input_full += 1

    def deserialize_json(self, line: str | bytes) -> dict:  # type: ignore[override]
        self.line_number += 1
        return decode_message(line, self.line_number)


def _text(line: str | bytes) -> str:
    return line.decode("utf-8", "replace") if isinstance(line, bytes) else line
