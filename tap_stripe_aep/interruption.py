"""Stopping on SIGINT / SIGTERM: the state every written record supports, then exit 130 / 143 at once.

The SDK's handler writes the tap's state and calls ``sys.exit(0)``: an interrupted run then looks like a success
to Meltano, cron and orchestrators, and nobody retries it. It also writes from inside the signal handler, which
Python runs between two bytecodes of the main thread, possibly in the middle of writing a message: the STATE line
could then follow half a record, or (an exception that interrupts a buffered write drops the bytes pending in
it) records that never reached stdout while the STATE after them did.

A :class:`SignalGate` lets a stop signal through at once, except while a message is being written: then it is
held until that message is whole. The stop itself (:meth:`TapStripeAEP.stop_on_signal`) writes the state and
ends the process without waiting for requests in flight: they only read from Stripe.
"""

from __future__ import annotations

import signal
from collections.abc import Callable


class SignalGate:
    """Where a stop signal may end the run: anywhere but inside the writing of one Singer message.

    Signal handlers run in the main thread, which is also the one thread that writes messages, so a plain flag
    is enough: no lock, and nothing for the hot path but two attribute writes per message.
    """

    def __init__(self, stop: Callable[[int], None] | None = None) -> None:
        self.stop = stop
        self.writing = False
        self._held: int | None = None

    def on_signal(self, signum: int) -> None:
        """Stop now, or once the message being written is whole."""
        if self.writing:
            self._held = signum
            return
        if self.stop is not None:
            self.stop(signum)

    def message_written(self) -> None:
        """Called by the writer after each message: a signal held meanwhile stops the run now."""
        self.writing = False
        held, self._held = self._held, None
        if held is not None and self.stop is not None:
            self.stop(held)


def exit_code_for(signum: int) -> int:
    """The shell's convention for a process ended by a signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
    return 128 + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
