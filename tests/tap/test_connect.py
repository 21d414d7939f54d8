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
