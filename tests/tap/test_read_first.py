"""The lists with an object per payment are read first; the output and the STATE lines' order do not change.

Why (issue 10, session 7, s7-tA3's trace): the reads ahead start a few at a time in the plan's order, and in the
catalog's alphabetical order payment intents (18% of a backfill's requests) started after a dozen smaller lists,
so a 100 requests/s run ended on it read alone. Against the Stripe emulator: the plan starts with the per-payment
lists, every record lands, and the last STATE lists its bookmarks in the catalog's order, as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.sync_order import Partition, read_first
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import FULL_KEY, Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

STREAMS = ["coupons", "customers", "payment_intents", "refunds"]  # the catalog's order


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with stripe_emulator(customers=60, rate_limit=0) as running:
        yield running


def test_the_per_payment_lists_are_planned_first_each_group_in_the_catalogs_order() -> None:
    tap = TapStripeAEP(config={"api_key": FULL_KEY}, validate_config=False, setup_mapper=False)
    names = ["coupons", "charges", "customers", "payment_intents", "balance_transactions", "refunds"]
    planned = read_first([Partition(tap.streams[name], "acct_1") for name in names])
    assert [p.stream.name for p in planned] == [
        "charges",
        "payment_intents",
        "balance_transactions",
        "coupons",
        "customers",
        "refunds",
    ]


def test_a_run_read_in_that_order_writes_every_record_and_states_in_the_catalogs_order(
    emulator: EmulatorProcess,
) -> None:
    control = Control(emulator.url)
    run = run_tap(tap_config(emulator.url, max_concurrency=2), streams=STREAMS)
    assert run.returncode == 0, run.stderr[-3000:]
    for name in STREAMS:
        assert sorted(run.ids(name)) == sorted(o["id"] for o in control.objects(name)), name
    # Bookmarks in the catalog's order (the order STATE lines always had), though payment intents was read first.
    assert list(run.final_state["bookmarks"]) == STREAMS
