"""Two Connect accounts are read with Stripe-Account, each with its own records and state partition."""

from __future__ import annotations

import pytest

from emulators.launch import stripe_emulator
from tests.tap.tap_runner import Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(90)

ACCOUNTS = ["acct_alpha1", "acct_beta2"]


def test_accounts_stay_separate() -> None:
    with stripe_emulator(customers=15, rate_limit=0, accounts=",".join(ACCOUNTS)) as emulator:
        control = Control(emulator.url)
        run = run_tap(tap_config(emulator.url, account_ids=ACCOUNTS), streams=["customers", "charges"])
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("customers", "charges"):
            for account in ACCOUNTS:
                expected = {obj["id"] for obj in control.objects(stream, account=account)}
                got = {r["id"] for r in run.records[stream] if r["account_id"] == account}
                assert expected and got == expected, (stream, account)
            assert {r["account_id"] for r in run.records[stream]} == set(ACCOUNTS)
            contexts = [p["context"] for p in run.final_state["bookmarks"][stream]["partitions"]]
            assert contexts == [{"account_id": a} for a in ACCOUNTS]


PLATFORM = "acct_emulator_platform"


def test_all_connected_accounts_and_new_ones_on_the_next_run() -> None:
    """``account_ids: ["*"]`` lists the accounts at start; one created later gets its own partition next run."""
    with stripe_emulator(customers=10, rate_limit=0, accounts=",".join(ACCOUNTS)) as emulator:
        control = Control(emulator.url)
        config = tap_config(emulator.url, account_ids=["*"])
        streams = ["accounts", "persons", "external_accounts", "customers"]
        first = run_tap(config, streams=streams)
        assert first.returncode == 0, first.stderr[-3000:]
        # The accounts themselves (and their persons and banks) are read once, with the platform's key.
        for stream in ("accounts", "persons", "external_accounts"):
            expected = {obj["id"]: obj for obj in control.objects(stream)}
            records = first.records[stream]
            assert expected and {r["id"] for r in records} == set(expected), stream
            assert {r["account_id"] for r in records} == {PLATFORM}
            if stream != "accounts":
                assert all(r["account"] == expected[r["id"]]["account"] for r in records)
        for account in ACCOUNTS:
            expected_ids = {obj["id"] for obj in control.objects("customers", account=account)}
            assert {r["id"] for r in first.records["customers"] if r["account_id"] == account} == expected_ids
        contexts = [p["context"] for p in first.final_state["bookmarks"]["customers"]["partitions"]]
        assert contexts == [{"account_id": a} for a in ACCOUNTS]

        new_account = "acct_gamma3"
        control.post("accounts", {"id": new_account})  # Stripe sends no event for a new account
        created = control.post("mutate", {"account": new_account, "creates": 1})["created"]["customers"]
        second = run_tap(config, state=first.final_state, streams=streams)
        assert second.returncode == 0, second.stderr[-3000:]
        assert second.ids("accounts") == [new_account]
        assert {r["account"] for r in second.records["persons"]} == {new_account}
        assert {r["id"] for r in second.records["customers"] if r["account_id"] == new_account} == set(created)
        contexts = [p["context"] for p in second.final_state["bookmarks"]["customers"]["partitions"]]
        assert contexts == [{"account_id": a} for a in [*ACCOUNTS, new_account]]


def test_stripe_context_is_sent_and_selects_the_account() -> None:
    with stripe_emulator(customers=5, rate_limit=0, accounts=",".join(ACCOUNTS)) as emulator:
        control = Control(emulator.url)
        run = run_tap(tap_config(emulator.url, stripe_context=ACCOUNTS[0]), streams=["customers"])
        assert run.returncode == 0, run.stderr[-3000:]
        assert control.stats()["stripe_contexts"] == [ACCOUNTS[0]]
        expected = {obj["id"] for obj in control.objects("customers", account=ACCOUNTS[0])}
        assert set(run.ids("customers")) == expected
        assert {r["account_id"] for r in run.records["customers"]} == {ACCOUNTS[0]}


def test_an_account_without_a_product_skips_its_streams_with_one_warning() -> None:
    with stripe_emulator(customers=10, rate_limit=0, disabled_products="Connect") as emulator:
        control = Control(emulator.url)
        streams = ["customers", "accounts", "application_fees", "application_fee_refunds", "top_ups"]
        run = run_tap(tap_config(emulator.url), streams=streams)
        assert run.returncode == 0, run.stderr[-3000:]
        for stream in ("accounts", "application_fees", "application_fee_refunds"):
            warnings = [line for line in run.stderr.splitlines() if f"Stream '{stream}'" in line and "skipped" in line]
            assert len(warnings) == 1 and "does not have Stripe Connect" in warnings[0], stream
            assert stream not in run.records
            partitions = run.final_state["bookmarks"].get(stream, {}).get("partitions", [])
            assert all("events_since" not in p for p in partitions), "a skipped stream must not claim it was read"
        for stream in ("customers", "top_ups"):
            assert set(run.ids(stream)) == {obj["id"] for obj in control.objects(stream)}
