"""Connect and money in and out of the balance: connected accounts, their persons and external accounts,
application fees and their refunds, transfer reversals, top-ups, and the balance transactions of each payout.

What each stream reads (list path, events, permission, product) is in ``tap_stripe_aep.stream_catalog``.
``accounts`` and its children are read once with the platform's key (``platform_only``), not per connected
account: a connected account cannot list the platform's accounts.
"""

from __future__ import annotations

from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.streams.children import ChildListStream


class AccountsStream(StripeStream):
    name = "accounts"


class PersonsStream(ChildListStream):
    name = "persons"


class ExternalAccountsStream(ChildListStream):
    name = "external_accounts"


class ApplicationFeesStream(StripeStream):
    name = "application_fees"


class ApplicationFeeRefundsStream(ChildListStream):
    name = "application_fee_refunds"


class TransferReversalsStream(ChildListStream):
    name = "transfer_reversals"


class TopUpsStream(StripeStream):
    name = "top_ups"


class PayoutBalanceTransactionsStream(ChildListStream):
    """Which balance transaction was paid out in which payout: one record per (payout, balance transaction).

    Read through ``/v1/balance_transactions?payout=po_...`` for each payout, and again when the payout changes
    (a payout's transactions are only final once it is ``paid``).
    """

    name = "payout_balance_transactions"


STREAM_TYPES: list[type[StripeStream]] = [
    AccountsStream,
    PersonsStream,
    ExternalAccountsStream,
    ApplicationFeesStream,
    ApplicationFeeRefundsStream,
    TransferReversalsStream,
    TopUpsStream,
    PayoutBalanceTransactionsStream,
]
