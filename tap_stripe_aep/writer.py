"""A cheaper Singer message writer: lines encoded to bytes once, written to stdout's binary buffer, flushed only at
STATE (and other non-RECORD) messages.

The SDK's writer encodes with ``simplejson`` (Decimal support the tap does not need: Stripe amounts are
integers), writes text and flushes after every line. Here RECORD lines come ready-made from the stream's record
path (:meth:`write_record_line`, encoded by ``exact_json.record_line``) and every other message is encoded by the
stdlib; both give the bytes the stdlib encoder always gave. Flushing at each STATE keeps the one promise that
matters: when a STATE line is out, every record before it is out too. Each write is wrapped by the tap's
:class:`SignalGate`, so a stop signal never lands in the middle of a message (see ``interruption.py``).

When stdout is unbuffered (``python -u`` or ``PYTHONUNBUFFERED=1``, common in container images, and set where the
benchmarks ran), each record would be one ``write`` system call, and each wake the reading process (a target)
for one line: the writer then puts a 64 KB buffer in front of stdout, once (:func:`buffered_stdout`). Records
still go out no later than the STATE after them, and at exit (Python flushes ``sys.stdout``, as does the tap's
stop on a signal), exactly as with Python's own buffering.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.singerlib.messages import Message, SingerMessageType, StateMessage

from tap_stripe_aep.exact_json import message_line, record_line
from tap_stripe_aep.interruption import SignalGate


class FastSingerWriter(SimpleSingerWriter):
    """Writes Singer messages as JSON lines; flushes stdout at STATE messages and at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = SignalGate()  # the tap replaces it with its own, which knows how to stop
        # The stdout a RECORD line last went to and its binary buffer's ``write``: while ``sys.stdout`` is still
        # that object, a record skips ``_write``'s checks (about 1 µs a record, 1-2% of the tap's CPU).
        self._record_stdout: object = None
        self._record_write: Callable[[bytes], object] | None = None

    def serialize_message(self, message: Message) -> str:
        return message_line(message.to_dict()).decode()[:-1]

    def write_message(self, message: Message) -> None:
        if message.type == SingerMessageType.RECORD:
            self._write(record_line(message.to_dict()), flush=False)
        elif isinstance(message, StateMessage) and message.value is not None:
            # What ``to_dict`` gives, without ``dataclasses.asdict`` copying the whole state first: a STATE follows
            # every window, and the copy of every stream's partitions was about 1% of the tap's CPU.
            self._write(message_line({"type": message.type, "value": message.value}), flush=True)
        else:
            self._write(message_line(message.to_dict()), flush=True)

    def write_record_line(self, line: bytes) -> None:
        """Write one RECORD line already encoded (``exact_json.record_line``), without flushing."""
        write = self._record_write
        if write is None or sys.stdout is not self._record_stdout:
            self._write(line, flush=False)
            # What ``_write`` settled on (a buffer put in front of an unbuffered stdout included) is what the
            # next records go to, as long as nobody replaces sys.stdout.
            out = sys.stdout
            binary = getattr(out, "buffer", None)
            self._record_stdout = out
            self._record_write = None if binary is None or type(binary) is io.FileIO else binary.write
            return
        gate = self.gate
        gate.writing = True
        try:
            write(line)
        finally:
            gate.message_written()

    def _write(self, line: bytes, *, flush: bool) -> None:
        gate = self.gate
        gate.writing = True
        try:
            out = sys.stdout  # looked up each time: a test or an embedding may have replaced it
            binary = getattr(out, "buffer", None)
            unbuffered = type(binary) is io.FileIO and out is sys.__stdout__  # see the module docstring
            if unbuffered and isinstance(out, io.TextIOWrapper):
                out = sys.stdout = buffered_stdout(out)
                binary = out.buffer
            if binary is None:  # a text-only stream (io.StringIO): same characters, as text
                out.write(line.decode())
            else:
                if flush:
                    out.flush()  # anything written as text before (nothing, normally) goes out first
                binary.write(line)
            if flush:
                out.flush()  # TextIOWrapper.flush also flushes its binary buffer
        finally:
            gate.message_written()


OUTPUT_BUFFER_BYTES = 1 << 16


def buffered_stdout(unbuffered: io.TextIOWrapper) -> io.TextIOWrapper:
    """The process's stdout with a buffer of :data:`OUTPUT_BUFFER_BYTES` in front of its file (the same file, the
    same encoding). The unbuffered one stays ``sys.__stdout__``, which keeps the file it shares open."""
    return io.TextIOWrapper(
        io.BufferedWriter(unbuffered.buffer, OUTPUT_BUFFER_BYTES),  # type: ignore[type-var]  # a raw FileIO
        encoding=unbuffered.encoding,
        errors=unbuffered.errors,
        line_buffering=False,
    )
