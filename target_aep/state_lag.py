"""``max_state_lag_seconds``: a received STATE is delivered, confirmed and written within a bounded time.

The SDK writes STATE only at the end of ``drain_all``, which it calls when a sink is full, at the end of input,
or when a *record* arrives more than 5 minutes (``_MAX_RECORD_AGE_IN_MINUTES``) after the last full drain. A
continuous tap writes a few records and a STATE, then nothing until its next poll: the target sits blocked on
stdin, no record arrives to trigger the age check, and the STATE waits for the next burst, or forever.

So the target reads its input through :func:`line_chunks_until_deadlines`: a thread reads stdin in chunks (the SDK's
message handling stays in the main thread, where it always was) and the main thread waits for the next chunk
only until the pending STATE's flush point, then drains all sinks itself (``Target.drain_all``: deliver, wait for
AEP's acceptance, write the STATE), exactly what the SDK does on its own schedule.

The flush point is half the lag after the STATE arrived: the other half is left for AEP to confirm what was sent
(a streaming request answers in well under a second; a batch takes AEP minutes to process). A STATE written
later than the lag anyway (AEP slow to confirm) is logged as a warning with how long it took.
"""

from __future__ import annotations

import queue
import threading
import time
import typing as t

STREAMING_DEFAULT_SECONDS = 5.0
# Batch mode: the SDK's own 5-minute drain interval as the flush point (half the lag), so batch runs keep their
# large batches (every drain is one AEP batch per dataset, each processed by AEP for a minute or more).
BATCH_DEFAULT_SECONDS = 600.0
FLUSH_SHARE = 0.5
CHUNK_BYTES = 1 << 16


def default_lag_seconds(streaming: bool) -> float:
    return STREAMING_DEFAULT_SECONDS if streaming else BATCH_DEFAULT_SECONDS


class StateLag:
    """When the oldest STATE not yet written arrived, and when it must be flushed."""

    def __init__(self, lag_seconds: float) -> None:
        self.lag_seconds = lag_seconds
        self._pending_since: float | None = None

    def state_received(self) -> None:
        if self._pending_since is None:
            self._pending_since = time.monotonic()

    def seconds_to_flush(self) -> float | None:
        """Seconds until the pending STATE must be flushed (<= 0: now), or None when no STATE is pending."""
        if self._pending_since is None:
            return None
        return self._pending_since + self.lag_seconds * FLUSH_SHARE - time.monotonic()

    def state_written(self) -> float | None:
        """The written STATE's wait since it arrived (seconds), or None if none was pending."""
        since, self._pending_since = self._pending_since, None
        return None if since is None else time.monotonic() - since


def line_chunks_until_deadlines(
    source: t.IO[str],
    seconds_to_deadline: t.Callable[[], float | None],
    on_deadline: t.Callable[[], None],
    on_read: t.Callable[[int], None] = lambda size: None,
) -> t.Iterator[list[bytes] | list[str]]:
    """The lines of ``source``, without their line end, a read's worth at a time; ``on_deadline()`` is called
    (between two reads' lines, in this thread) whenever ``seconds_to_deadline()`` reaches 0, whether lines keep
    arriving or the input is idle. ``on_read(size)`` is called (in the reading thread) after each read of a
    binary source: a read of ``CHUNK_BYTES`` found a pipe full (64 KB on Linux), its writer held up by the
    target, or reads a file; a shorter one took all the input there was (the end-of-run log counts them: how
    often the target held its input up).

    A source with a binary buffer (stdin, a file) gives ``bytes`` lines: split from the chunks as read, never
    decoded to ``str`` here, because the JSON decoder takes bytes (decoding every line to text and encoding it
    back was a cost per record). Any other text source (a ``StringIO``) gives its ``str`` lines one at a time.

    The deadline is checked once a read's lines are handled, not after every line: at most 64 KB of lines
    later (milliseconds, against a lag of seconds), and a clock read and two calls a record less (a generator
    step and ``seconds_to_deadline``).
    """
    chunks: queue.Queue[bytes | str | BaseException | None] = queue.Queue(maxsize=16)
    threading.Thread(target=_pump, args=(source, chunks, on_read), name="stdin-reader", daemon=True).start()
    partial = b""
    while True:
        wait = seconds_to_deadline()
        try:
            chunk = chunks.get(timeout=max(0.0, wait)) if wait is not None else chunks.get()
        except queue.Empty:
            on_deadline()
            continue
        if chunk is None:
            break
        if type(chunk) is str:  # one line of a text source
            yield [chunk.rstrip("\n")]
        elif isinstance(chunk, BaseException):
            raise chunk
        else:
            lines = (partial + chunk).split(b"\n")  # type: ignore[operator]
            partial = lines.pop()
            yield lines
        wait = seconds_to_deadline()
        if wait is not None and wait <= 0:
            on_deadline()
    if partial:
        yield [partial]


def _pump(
    source: t.IO[str], chunks: queue.Queue[bytes | str | BaseException | None], on_read: t.Callable[[int], None]
) -> None:
    """Read ``source`` in chunks as they arrive (a pipe answers with what it has) into ``chunks``; None at EOF."""
    try:
        binary = getattr(source, "buffer", None)
        if binary is not None and hasattr(binary, "read1"):
            while data := binary.read1(CHUNK_BYTES):
                on_read(len(data))
                chunks.put(data)
        else:
            for line in source:
                chunks.put(line)
    except BaseException as error:  # raised again in the main thread, which ends the run
        chunks.put(error)
        return
    chunks.put(None)
