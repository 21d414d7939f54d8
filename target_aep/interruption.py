"""Stopping on SIGINT / SIGTERM: exit 130 / 143 at once, and no STATE line after the signal.

The SDK's handler drains every sink and exits 0. It does so from inside the signal handler, in the middle of
whatever the main thread was doing (half-way through a record, or waiting on a batch in
``TargetAEP._write_state_message``), can take as long as AEP takes to process a batch, and then reports success:
an interrupted run looks complete to Meltano, cron and orchestrators, and nobody retries it.

Here a signal ends the process at once, except while a STATE line is being written: then as soon as that line is
whole. Every STATE line already out covers only records AEP accepted (``TargetAEP._write_state_message`` waits for
them), and none is written after the signal. Deliveries in flight are abandoned rather than waited for (a batch can
take minutes): no STATE covers their records, so the next run sends them again, with the same ``_id``\\ s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator


class StopOnSignal:
    """Ends the process on a stop signal, never in the middle of a STATE line.

    Signal handlers run in the main thread, which is also the one that writes STATE lines: a flag is enough.
    """

    def __init__(self, logger: logging.Logger, before_exit: Callable[[int], None] | None = None) -> None:
        self.logger = logger
        self.before_exit = before_exit  # called with the exit code: the run report tells of the interruption
        self._writing_state = False
        self._held: int | None = None

    def on_signal(self, signum: int) -> None:
        if self._writing_state:
            self._held = signum
            return
        self.stop(signum)

    @contextlib.contextmanager
    def writing_state(self) -> Iterator[None]:
        """Around the writing of one STATE line: a signal meanwhile waits until the line is whole."""
        self._writing_state = True
        try:
            yield
        finally:
            self._writing_state = False
            held, self._held = self._held, None
            if held is not None:
                self.stop(held)

    def stop(self, signum: int) -> None:
        code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
        self.logger.error(
            "target-aep interrupted by %s: deliveries not yet confirmed were abandoned and no STATE line covers "
            "them (the next run sends them again); exit %d so the run counts as failed and is retried",
            _signal_name(signum),
            code,
        )
        if self.before_exit is not None:
            with contextlib.suppress(Exception):  # the process ends with its exit code whatever happens here
                self.before_exit(code)
        with contextlib.suppress(Exception):
            logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Not sys.exit: exit handlers would join the delivery threads, i.e. wait for the batches in flight.
        os._exit(code)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
