"""Checkout and what it sells through: session line items, payment links, shipping rates, setup attempts.

What each stream reads (list path, events, permission) is in ``tap_stripe_aep.stream_catalog``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from tap_stripe_aep.streams.base import StripeObject, StripeStream
from tap_stripe_aep.streams.children import ChildListStream
from tap_stripe_aep.streams.full_reread import FullRereadStream


class CheckoutSessionLineItemsStream(ChildListStream):
    """A session's lines, embedded in the session list by ``expand[]=data.line_items``.

    Without the expansion every session would cost a request of its own (one per session: at 25 requests/s that
    is what a backfill would wait on). Sessions whose embedded list is cut short (``has_more``), and sessions
    read from events (never expanded), have their lines listed.
    """

    name = "checkout_session_line_items"

    def history_list(self) -> tuple[str, dict[str, Any]]:
        path, params = super().history_list()
        return path, {**params, "expand[]": f"data.{self.entry.embedded_field}"}


class SetupAttemptsStream(ChildListStream):
    """A setup intent's attempts; an intent never confirmed (``latest_attempt`` null) has none to list."""

    name = "setup_attempts"
    parent_fields_used = ("latest_attempt",)

    def _children_of(self, job: tuple[StripeObject, bool, str]) -> list[StripeObject]:
        parent, deleted, _ = job
        if not deleted and parent.get("latest_attempt") is None:
            return []
        return super()._children_of(job)


class PaymentLinksStream(StripeStream):
    """Payment links: Stripe's list has no ``created`` filter and the object no ``created`` field.

    History is therefore the whole list in one pass (payment links are few); later runs read the
    ``payment_link.*`` events. A link read from history has no change time of its own, so its ``updated`` is
    the time the read began.
    """

    name = "payment_links"

    def history_batches(self, account: str, start: int, end: int) -> Iterator[tuple[int, list[StripeObject]]]:
        path, params = self.history_list()
        objects: list[StripeObject] = []
        for page in self.client.list_pages(
            path, params, account=account, stream=self.name, permission=self.entry.permission
        ):
            objects.extend(page.get("data") or [])
        objects.reverse()  # Stripe lists newest first; history is emitted oldest first
        self._read_at = end - 1
        yield end, objects

    def _emit_window_objects(self, objects: list[StripeObject]) -> Iterator[dict]:
        for obj in objects:
            yield self.make_record(obj, updated=self._read_at, is_deleted=False)

    def _emit_created_since(self, since: int, until: int, seen: set[str]) -> Generator[dict, None, set[str]]:
        # Every payment link creation sends `payment_link.created`, and the list could not be cut by creation
        # time anyway: nothing to sweep.
        return set()
        yield  # a generator, like the method it overrides


class ShippingRatesStream(FullRereadStream):
    name = "shipping_rates"


STREAM_TYPES: list[type[StripeStream]] = [
    CheckoutSessionLineItemsStream,
    PaymentLinksStream,
    ShippingRatesStream,
    SetupAttemptsStream,
]
