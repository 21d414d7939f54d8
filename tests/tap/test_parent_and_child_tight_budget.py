"""Parents and their child lists synced together on a read budget far smaller than the history: the run ends.

The defect (session 7, s7-tA's shared read): one read of a parent's list fed both the parent's partition and its
child list's; on a budget much smaller than the history (the normal case on a large account) the parent reads
waited for room that only writing their own, or their child's, batches would free, while the writer waited on
the children, which waited on their parents: the tap hung forever (only charges written). Each stream now reads
its own list again (docs/benchmarks.md, issue 10 session 7). The run is in-process with the budget constants
shrunk, as ``test_read_budget.py`` does; a hang fails by the timeout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tap_stripe_aep.tap as tap_module
from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import Control, parse_messages, tap_config

pytestmark = pytest.mark.timeout(30)  # each run takes 5-8 s; the hang it guards against is forever

BUDGET = 250_000  # bytes of Stripe's JSON, for the reads ahead and the partition written alike: ~1/100 of the history
STREAMS = [
    "customers",
    "charges",
    "invoices",
    "invoice_line_items",
    "subscriptions",
    "subscription_items",
    "payment_methods",
    "customer_balance_transactions",
]
PLATFORM = "acct_emulator_platform"  # the account a key without Connect accounts reads
CONNECT_ACCOUNTS = [f"acct_tight{i}" for i in range(4)]


@pytest.fixture(scope="module", params=["one account", "four Connect accounts"])
def emulator(request: pytest.FixtureRequest) -> Iterator[tuple[EmulatorProcess, list[str] | None]]:
    if request.param == "one account":
        with stripe_emulator(customers=600, rate_limit=0) as emulator:
            yield emulator, None
    else:
        with stripe_emulator(customers=150, rate_limit=0, accounts=",".join(CONNECT_ACCOUNTS)) as emulator:
            yield emulator, CONNECT_ACCOUNTS


def test_every_record_lands_once_on_a_budget_far_below_the_history(
    emulator: tuple[EmulatorProcess, list[str] | None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    process, accounts = emulator
    monkeypatch.setattr(tap_module, "READ_AHEAD_BYTES", BUDGET)
    monkeypatch.setattr(tap_module, "EMITTED_PARTITION_BYTES", BUDGET)
    settings = {"max_concurrency": 6} if accounts is None else {"max_concurrency": 6, "account_ids": accounts}
    tap = TapStripeAEP(config=tap_config(process.url, **settings))
    for name, stream in tap.streams.items():
        stream.selected = name in STREAMS
    tap.sync_all()

    records, states = parse_messages(capsys.readouterr().out)
    control = Control(process.url)
    history = 0
    for name in STREAMS:
        landed = [(r.get("account_id"), r["id"]) for r in records[name]]
        assert len(landed) == len(set(landed)), f"{name}: a record written twice"
        expected = {(a or PLATFORM, o["id"]) for a in accounts or [None] for o in control.objects(name, a)}
        assert set(landed) == expected, f"{name}: {len(set(landed))} records of {len(expected)}"
        history += len(expected)
    assert history > 5000, "the history is too small to be far above the budget"
    bookmarks = states[-1]["bookmarks"]
    for name in STREAMS:
        for partition in bookmarks[name]["partitions"]:
            assert "events_since" in partition and "backfill_started_at" not in partition, name
