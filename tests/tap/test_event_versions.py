"""An event rendered in an older API version is replaced by the object read again in the pinned version."""

from __future__ import annotations

import pytest

from emulators.launch import EmulatorProcess
from tap_stripe_aep.change_feed import Change
from tap_stripe_aep.stream_catalog import STRIPE_API_VERSION
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import Control, tap_config

pytestmark = pytest.mark.timeout(30)


def test_old_version_events_are_read_again(shared_emulator: EmulatorProcess, control: Control) -> None:
    tap = TapStripeAEP(config=tap_config(shared_emulator.url))
    stream = tap.streams["customers"]
    stream._account = "acct_emulator_platform"
    live = control.objects("customers")[0]
    old = Change("evt_old", "customer.updated", live["created"] + 10, "2020-08-27", {"id": live["id"]}, False)
    same = Change("evt_new", "customer.updated", live["created"] + 20, STRIPE_API_VERSION, {"id": "cus_x"}, False)

    records = list(stream._emit_changed_objects([old, same]))

    assert records[0]["id"] == live["id"] and records[0]["email"] == live["email"]  # read again, whole
    assert records[1] == {**same.obj, **{k: records[1][k] for k in ("updated", "is_deleted", "account_id")}}
    assert records[0]["updated"] < records[1]["updated"]
