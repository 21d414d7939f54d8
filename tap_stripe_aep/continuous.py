"""Continuous mode (``poll_interval_seconds``): after history and the catch-up, poll ``/v1/events`` until stopped.

Why a poll is one more ``sync_all``: the SDK syncs each partition through ``Stream.get_records`` (the tap chooses
which one next, ``sync_order.py``; in a poll every partition reads its changes, so the catalog's order), and
finalizes and writes each stream's state after it. A batch run's incremental
already is "changes since the bookmark, then a STATE"; running it again every N seconds gives exactly the records
a batch run would, with the same rate limiter, retries, Connect partitions and 30-day rule, and keeps the SDK in
charge of state (no second code path that could drift from the batch one). What a poll changes is only what a
single run may assume fixed: Stripe's clock is read again (``TapStripeAEP.stripe_now``), new connected accounts
are picked up (``account_ids: ["*"]``), a stream's SCHEMA is sent once per process, and a change already emitted
in this process is not emitted again by the next poll's overlap (:class:`RecentlyEmitted`).

Stopping (see ``interruption.py``): a SIGTERM / SIGINT while a poll runs lets that poll finish (polls take
seconds); between polls, or during the first history read, the tap stops at once. Either way the last STATE line
covers every record written, and the exit code is 0: in continuous mode a stop signal is the normal end.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Hashable

from tap_stripe_aep.change_feed import EVENT_LAG_SECONDS


class Phase(enum.Enum):
    """Where a continuous run is: what a stop signal does depends on it."""

    CATCH_UP = "catch-up"  # the first sync: history and the changes since the bookmark (stop at once)
    POLLING = "polling"  # a poll is running (finish it, then stop)
    WAITING = "waiting"  # between two polls (stop at once: the last STATE is out)


class PollClock:
    """Waits between polls; ``wake()`` (from a signal handler) ends the wait early."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._woken = threading.Event()

    def wait(self, elapsed: float) -> bool:
        """Sleep what is left of the interval after a poll that took ``elapsed`` s; False once woken."""
        return not self._woken.wait(max(0.0, self.interval_seconds - elapsed))

    def wake(self) -> None:
        self._woken.set()


class RecentlyEmitted:
    """What this process emitted in the last ``EVENT_LAG_SECONDS``, per partition, so a poll does not repeat it.

    Each read of events starts ``EVENT_LAG_SECONDS`` before the bookmark (Stripe may list an event a moment after
    its ``created`` second). In a batch run that overlap costs a few duplicates once; polling every 5 s it would
    re-emit every change a dozen times. Keys are the event id of the change emitted (two changes of one object
    are two keys, so a late-listed event is never mistaken for one already sent), or the object id for an object
    found without an event. Only keys young enough to fall into a later poll's overlap are kept, and older ones
    are dropped at each poll, so memory stays flat however long the process runs.
    """

    def __init__(self) -> None:
        self._emitted: dict[Hashable, dict[str, int]] = {}

    def forget_before(self, partition: Hashable, floor: int) -> None:
        """Drop what no read from ``floor`` on can list again."""
        keys = self._emitted.get(partition)
        if keys:
            for key in [k for k, created in keys.items() if created < floor]:
                del keys[key]

    def first_time(self, partition: Hashable, key: str, created: int, *, now: int) -> bool:
        """True unless ``key`` was emitted before; remembers it when a later overlap can still list it."""
        keys = self._emitted.setdefault(partition, {})
        if key in keys:
            return False
        if created >= now - EVENT_LAG_SECONDS - 1:
            keys[key] = created
        return True

    def size(self) -> int:
        return sum(len(keys) for keys in self._emitted.values())
