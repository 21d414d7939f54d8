"""End to end: an item taken out of a subscription reaches the next run as a deletion record of its own.

Stripe sends no event for the item; the tap sees it only in the subscription's ``previous_attributes.items``.
"""

from __future__ import annotations

import pytest

from emulators.launch import EmulatorProcess
from tests.tap.tap_runner import Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

STREAMS = ["subscriptions", "subscription_items"]
PLATFORM_ACCOUNT = "acct_emulator_platform"
# All a removed item's record carries: what identifies it and the deletion, nothing the tap no longer knows.
DELETION_FIELDS = {"id", "object", "subscription", "updated", "account_id", "is_deleted"}


def test_a_removed_subscription_item_is_emitted_once_as_deleted(own_emulator: EmulatorProcess) -> None:
    control = Control(own_emulator.url)
    config = tap_config(own_emulator.url)
    first = run_tap(config, streams=STREAMS)
    assert first.returncode == 0, first.stderr[-3000:]

    changes = control.post("mutate", {"remove_items": 2})
    removed = set(changes["removed"]["subscription_items"])
    assert len(removed) == 2, changes
    assert removed <= set(first.ids("subscription_items")), "the first run saw the items before their removal"
    parent_of = {r["id"]: r["subscription"] for r in first.records["subscription_items"]}
    changed_subscriptions = {parent_of[item_id] for item_id in removed}

    second = run_tap(config, state=first.final_state, streams=STREAMS)
    assert second.returncode == 0, second.stderr[-3000:]
    items = second.records.get("subscription_items", [])
    for item_id in removed:
        emitted = [r for r in items if r["id"] == item_id]
        assert len(emitted) == 1, f"{item_id} emitted {len(emitted)} times: {emitted}"
        record = emitted[0]
        assert record["is_deleted"] is True
        assert record["subscription"] == parent_of[item_id]
        assert record["object"] == "subscription_item" and record["account_id"] == PLATFORM_ACCOUNT
        assert record["updated"] >= max(r["updated"] for r in first.records["subscription_items"])
        assert {k for k, v in record.items() if v is not None} == DELETION_FIELDS

    live = {s["id"]: s for s in control.objects("subscriptions")}
    for subscription_id in changed_subscriptions:
        kept = {item["id"] for item in live[subscription_id]["items"]["data"]}
        assert kept, f"{subscription_id} kept no item"
        emitted = [r for r in items if r["subscription"] == subscription_id and r["id"] in kept]
        assert {r["id"] for r in emitted} == kept and all(r["is_deleted"] is False for r in emitted)
        assert not kept & removed
    # Only the changed subscriptions (and the few in the event lag margin) had their items read again.
    assert {r["subscription"] for r in items} >= changed_subscriptions
    assert len({r["subscription"] for r in items}) <= len(changed_subscriptions) + 3
    assert {r["id"] for r in second.records.get("subscriptions", [])} >= changed_subscriptions
