"""A customer's own lists: payment methods, tax ids and customer balance transactions.

None of them can be listed across customers with a ``created`` filter, so history is read through the customers
(the same concurrent ``created`` windows, then one list per customer, as invoice lines are read per invoice).
Later runs differ:

- payment methods and tax ids have events of their own (``payment_method.*``, ``customer.tax_id.*``), which carry
  the changed object: read from them, a detachment or deletion reported as ``is_deleted``;
- customer balance transactions have none, but every one changes the customer's ``balance``, which Stripe sends
  as ``customer.updated``: the transactions of every customer that changed are re-read (``PARENT_EVENTS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from tap_stripe_aep.change_feed import Change
from tap_stripe_aep.errors import StripeRequestError
from tap_stripe_aep.stream_catalog import StripeStream as CatalogEntry
from tap_stripe_aep.streams.base import StripeObject, StripeStream
from tap_stripe_aep.streams.children import ChildListStream


class CustomerChildWithEvents(ChildListStream):
    """History through the customers; changes from the child's own events (not the customers')."""

    # Where one object is retrieved again when its event was rendered in another API version.
    retrieve_path: ClassVar[str]

    def change_entry(self) -> CatalogEntry:
        return self.entry

    def _emit_changed_objects(self, changes: list[Change]) -> Iterator[dict]:
        return StripeStream._emit_changed_objects(self, changes)

    def _refetch(self, change: Change) -> StripeObject | None:
        try:
            return self.client.get(
                f"{self.retrieve_path}/{change.obj['id']}",
                account=self._account,
                stream=self.name,
                permission=self.entry.permission,
            )
        except StripeRequestError:
            return None  # gone since the event: the event's copy is the newest there is


class PaymentMethodsStream(CustomerChildWithEvents):
    name = "payment_methods"
    retrieve_path = "/v1/payment_methods"


class TaxIdsStream(CustomerChildWithEvents):
    """Tax ids come included in the customers list when asked for, so history costs no request per customer
    (a customer with more than Stripe's included 10 is listed on its own)."""

    name = "tax_ids"
    retrieve_path = "/v1/tax_ids"

    def history_list(self) -> tuple[str, dict[str, Any]]:
        path, params = super().history_list()
        return path, {**params, "expand[]": "data.tax_ids"}


class CustomerBalanceTransactionsStream(ChildListStream):
    name = "customer_balance_transactions"


STREAM_TYPES: list[type[StripeStream]] = [
    CustomerBalanceTransactionsStream,
    PaymentMethodsStream,
    TaxIdsStream,
]
