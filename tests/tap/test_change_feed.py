"""``latest_changes``: the newest state per object, every ``types[]`` chunk read, removed children noticed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulators.launch import EmulatorProcess
from tap_stripe_aep.change_feed import MAX_TYPES_PER_QUERY, Change, latest_changes
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import Control, tap_config

pytestmark = pytest.mark.timeout(30)


def _event(event_id: str, event_type: str, created: int, obj: dict[str, Any], **previous: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous:
        data["previous_attributes"] = previous
    return {"id": event_id, "type": event_type, "created": created, "api_version": None, "data": data}


class FakeEventLog:
    """``/v1/events`` over a fixed list: newest first, ``created`` range, ``types[]`` capped like Stripe's."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = sorted(events, key=lambda e: (e["created"], e["id"]), reverse=True)
        self.type_lists: list[list[str]] = []

    def __call__(self, types: list[str], gte: int, lt: int, starting_after: str | None) -> dict[str, Any]:
        assert 1 <= len(types) <= MAX_TYPES_PER_QUERY, f"{len(types)} types[] in one request: Stripe answers 400"
        self.type_lists.append(types)
        hits = [e for e in self.events if e["type"] in types and gte <= e["created"] < lt]
        if starting_after:
            hits = hits[[e["id"] for e in hits].index(starting_after) + 1 :]
        return {"object": "list", "data": hits[:100], "has_more": len(hits) > 100}


def _changes(log: FakeEventLog, types: list[str], deletions: tuple[str, ...] = ()) -> list[Change]:
    with ThreadPoolExecutor(4) as pool:
        return latest_changes(
            log, pool, event_types=types, deletion_types=deletions, since=1000, until=200_000, max_in_flight=4
        )


def test_newest_state_wins_and_deletion_of_an_unseen_object_is_kept() -> None:
    log = FakeEventLog(
        [
            _event("evt_1", "customer.updated", 2000, {"id": "cus_a", "name": "first"}),
            _event("evt_3", "customer.updated", 2000, {"id": "cus_a", "name": "same second, later id"}),
            _event("evt_2", "customer.updated", 1000, {"id": "cus_a", "name": "at the bookmark second"}),
            _event("evt_4", "customer.deleted", 150_000, {"id": "cus_never_seen", "deleted": True}),
            _event("evt_5", "customer.subscription.updated", 3000, {"id": "sub_x"}),
        ]
    )
    changes = _changes(log, ["customer.updated", "customer.deleted"], ("customer.deleted",))
    assert [(c.obj["id"], c.event_id, c.deleted) for c in changes] == [
        ("cus_a", "evt_3", False),
        ("cus_never_seen", "evt_4", True),
    ]


def test_more_than_twenty_types_are_read_in_chunks_and_merged() -> None:
    types = [f"thing.action_{i:02d}" for i in range(45)]
    log = FakeEventLog([_event(f"evt_{i:02d}", t, 5000 + i, {"id": "obj_1", "rev": i}) for i, t in enumerate(types)])
    changes = _changes(log, types)
    assert {t for chunk in log.type_lists for t in chunk} == set(types)
    assert [c.obj["rev"] for c in changes] == [44]  # the newest, from the last chunk


def test_children_listed_by_any_event_are_remembered() -> None:
    log = FakeEventLog(
        [
            _event(
                "evt_1",
                "customer.subscription.updated",
                5000,
                {"id": "sub_1"},
                items={"object": "list", "data": [{"id": "si_gone"}, {"id": "si_kept"}]},
            ),
            _event("evt_2", "customer.subscription.updated", 6000, {"id": "sub_1"}, metadata={"a": "b"}),
        ]
    )
    (change,) = _changes(log, ["customer.subscription.updated"])
    assert change.event_id == "evt_2"
    assert change.previous_child_ids == {"si_gone", "si_kept"}


def test_a_removed_child_is_emitted_as_deleted(shared_emulator: EmulatorProcess, control: Control) -> None:
    tap = TapStripeAEP(config=tap_config(shared_emulator.url))
    stream = tap.streams["subscription_items"]
    stream._account = "acct_emulator_platform"
    subscription = next(s for s in control.objects("subscriptions") if s["items"]["data"])
    current = {item["id"] for item in subscription["items"]["data"]}
    change = Change(
        "evt_x",
        "customer.subscription.updated",
        subscription["created"] + 60,
        None,
        subscription,
        False,
        previous_child_ids=frozenset({*current, "si_removed0001"}),
    )

    records = {r["id"]: r for r in stream._emit_changed_objects([change])}

    assert set(records) == {*current, "si_removed0001"}
    assert records["si_removed0001"]["is_deleted"] is True
    assert records["si_removed0001"]["subscription"] == subscription["id"]
    assert not any(records[i]["is_deleted"] for i in current)
