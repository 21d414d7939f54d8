"""The ``events`` stream: Stripe's own event log, append-only, read by ``created`` windows.

Events never change, so every run reads the windows after its bookmark. Stripe keeps 30 days of events: a
first run reads what is kept, and a bookmark older than that is reported as a gap (it cannot be filled).
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream


class EventsStream(StripeStream):
    name = "events"


STREAM_TYPES: list[type[StripeStream]] = [EventsStream]
