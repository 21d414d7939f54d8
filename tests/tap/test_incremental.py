"""Later runs read only what changed (from events), see deletions, and never skip the 30-day event horizon."""

from __future__ import annotations

import pytest

from emulators.launch import EmulatorProcess
from tests.tap.tap_runner import Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

STREAMS = ["customers", "products", "invoices", "invoice_line_items", "charges", "balance_transactions", "events"]


def _touched(result: dict, kind: str, resource: str) -> set[str]:
    section = result.get(kind) or {}
    return set(section.get(resource) or [])


def test_next_run_emits_exactly_the_changes(own_emulator: EmulatorProcess) -> None:
    control = Control(own_emulator.url)
    config = tap_config(own_emulator.url)
    first = run_tap(config, streams=STREAMS)
    assert first.returncode == 0, first.stderr[-3000:]
    total_customers = len(first.records["customers"])

    changes = control.post("mutate", {"updates": 4, "deletes": 2, "creates": 3})
    second = run_tap(config, state=first.final_state, streams=STREAMS)
    assert second.returncode == 0, second.stderr[-3000:]

    live = {obj["id"]: obj for obj in control.objects("customers")}
    updated = _touched(changes, "updated", "customers")
    deleted = _touched(changes, "deleted", "customers")
    created = _touched(changes, "created", "customers")
    assert updated and deleted and created, changes
    records = {r["id"]: r for r in second.records.get("customers", [])}
    assert updated | deleted | created <= set(records)
    # "Few unchanged objects": only the ones whose events fell in the lag margin before the bookmark.
    assert len(records) <= len(updated | deleted | created) + 3 < total_customers
    for object_id in deleted:
        assert records[object_id]["is_deleted"] is True
    for object_id in updated | created:
        assert records[object_id]["is_deleted"] is False
        assert records[object_id].get("name") == live[object_id].get("name")
        assert records[object_id]["updated"] > records[object_id]["created"] or object_id in created

    assert len(second.ids("customers")) == len(set(second.ids("customers")))

    # The event log itself: every event since the first run, once, and nothing much older.
    new_events = {e["id"] for e in control.objects("events")} - set(first.ids("events"))
    assert new_events and new_events <= set(second.ids("events"))
    assert len(second.ids("events")) == len(set(second.ids("events")))
    assert len(second.ids("events")) <= len(new_events) + 3

    # Balance transactions have no events: re-read from the bookmark (the emulator's are all `available`, so no
    # `oldest_pending` pulls the re-read further back), i.e. only the few created since.
    assert len(second.ids("balance_transactions")) < len(first.ids("balance_transactions")) // 4

    # Deletions of other objects are flagged too.
    deleted_products = _touched(changes, "deleted", "products")
    products = {r["id"]: r for r in second.records.get("products", [])}
    assert deleted_products and all(products[i]["is_deleted"] for i in deleted_products)

    # A changed parent has its children read again, and only changed parents do.
    changed_invoices = _touched(changes, "updated", "invoices")
    assert changed_invoices
    lines = second.records.get("invoice_line_items", [])
    assert {line["invoice"] for line in lines} >= changed_invoices
    assert len({line["invoice"] for line in lines}) <= len(changed_invoices) + 3
    live_invoices = {obj["id"]: obj for obj in control.objects("invoices")}
    for invoice_id in changed_invoices:
        expected = {item["id"] for item in live_invoices[invoice_id]["lines"]["data"]}
        assert {line["id"] for line in lines if line["invoice"] == invoice_id} == expected


def test_a_bookmark_older_than_30_days_rereads_the_stream(own_emulator: EmulatorProcess) -> None:
    control = Control(own_emulator.url)
    config = tap_config(own_emulator.url)
    first = run_tap(config, streams=["customers", "charges"])
    assert first.returncode == 0, first.stderr[-3000:]

    control.post("clock", {"advance_seconds": 31 * 86400})
    changes = control.post("mutate", {"updates": 2, "deletes": 1, "creates": 1})
    second = run_tap(config, state=first.final_state, streams=["customers", "charges"])
    assert second.returncode == 0, second.stderr[-3000:]

    assert "older than the 30 days of events" in second.stderr
    assert "Re-reading the whole stream" in second.stderr
    live = {obj["id"] for obj in control.objects("customers")}
    deleted = _touched(changes, "deleted", "customers")
    assert deleted, changes
    emitted = {r["id"]: r for r in second.records["customers"]}
    assert live <= set(emitted)
    # The re-read lists only live objects: a deletion inside the last 30 days comes from its event.
    assert deleted <= set(emitted), "a deletion still in the event log was lost by the re-read"
    for object_id in deleted:
        assert emitted[object_id]["is_deleted"] is True
    assert len(second.ids("customers")) == len(set(second.ids("customers")))
    assert {r["id"] for r in second.records["charges"]} >= {o["id"] for o in control.objects("charges")}


# --- issue 9: H9
H9_STREAMS = [
    "checkout_sessions",
    "checkout_session_line_items",
    "payment_links",
    "shipping_rates",
    "setup_intents",
    "setup_attempts",
    "files",
    "file_links",
    "early_fraud_warnings",
    "reviews",
    "issuing_authorizations",
    "issuing_cardholders",
    "issuing_cards",
    "issuing_disputes",
    "issuing_transactions",
]
H9_ROTATION = [s for s in H9_STREAMS if s not in ("checkout_sessions", "setup_intents")]
# Streams whose lists have a child or no events of their own, checked separately below.
H9_SILENT = {"checkout_session_line_items", "setup_attempts", "checkout_sessions", "setup_intents"}


def test_checkout_radar_issuing_files_next_run_emits_exactly_the_changes(own_emulator: EmulatorProcess) -> None:
    control = Control(own_emulator.url)
    config = tap_config(own_emulator.url)
    first = run_tap(config, streams=H9_STREAMS)
    assert first.returncode == 0, first.stderr[-3000:]

    changes = control.post(
        "mutate",
        {
            "updates": len(H9_ROTATION),
            "creates": len(H9_ROTATION) + 1,
            "resources": [*H9_ROTATION, "setup_intents"],  # a new setup intent, confirmed below
            # blind spots: a session created open sends no event; a confirmation makes an attempt with none
            "creates_without_event": {"checkout_sessions": 1},
            "confirm_setup_intents": 1,
        },
    )
    second = run_tap(config, state=first.final_state, streams=H9_STREAMS)
    assert second.returncode == 0, second.stderr[-3000:]

    for stream in [s for s in H9_STREAMS if s not in H9_SILENT]:
        touched = _touched(changes, "updated", stream) | _touched(changes, "created", stream)
        assert touched, (stream, changes)
        live = {obj["id"]: obj for obj in control.objects(stream)}
        records = {r["id"]: r for r in second.records.get(stream, [])}
        # exactly the changes, including shipping rates and file links, which change and appear with no event
        assert set(records) == touched, stream
        assert len(second.ids(stream)) == len(records), f"{stream}: duplicates"
        for object_id, record in records.items():
            for field in ("metadata", "active", "status", "open", "expires_at", "actionable", "name"):
                if field in live[object_id] and field != "expires_at":
                    assert record[field] == live[object_id][field], (stream, object_id, field)
            assert record["is_deleted"] is False

    # A checkout session created open (no event): the session and its lines reach the next run.
    (session_id,) = changes["created_without_event"]["checkout_sessions"]
    assert session_id in second.ids("checkout_sessions")
    lines = {r["id"] for r in second.records["checkout_session_line_items"] if r["checkout_session"] == session_id}
    assert lines and lines == {r["id"] for r in second.records["checkout_session_line_items"]}

    # A setup intent confirmed: its new attempt (which has no event) is read through the intent's event.
    (attempt_id,) = changes["confirmed"]["setup_attempts"]
    attempts = {r["id"]: r for r in second.records["setup_attempts"]}
    assert attempt_id in attempts and attempts[attempt_id]["status"] == "succeeded"
    assert attempts[attempt_id]["setup_intent"] == changes["confirmed"]["setup_intents"][0]
    assert len(first.ids("setup_attempts")) > len(attempts)


def test_an_account_without_issuing_or_radar_skips_those_streams(own_emulator: EmulatorProcess) -> None:
    control = Control(own_emulator.url)
    control.post("products", {"disabled": ["Issuing", "Radar"]})
    run = run_tap(tap_config(own_emulator.url), streams=["issuing_cards", "reviews", "files"])
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.ids("files") and not run.records.get("issuing_cards") and not run.records.get("reviews")
    assert run.stderr.count("does not have Stripe Issuing") == 1
    assert run.stderr.count("does not have Stripe Radar") == 1
    # not marked as read: the next run reads them once the products are activated
    partitions = run.final_state["bookmarks"].get("issuing_cards", {}).get("partitions", [])
    assert all("events_since" not in p for p in partitions)
