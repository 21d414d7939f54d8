"""A first run reads every object the emulator holds, once, with Stripe's values and the record conventions."""

from __future__ import annotations

import datetime

import pytest

from emulators.launch import EmulatorProcess
from tap_stripe_aep.stream_catalog import STREAMS
from tests.tap.tap_runner import Control, TapRun, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

TOP_LEVEL = [s.name for s in STREAMS if s.parent is None]
RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


def _iso(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime(RFC3339)


@pytest.mark.parametrize("stream", TOP_LEVEL)
def test_every_object_arrives_once_with_its_values(stream: str, full_run: TapRun, control: Control) -> None:
    expected = {obj["id"]: obj for obj in control.objects(stream)}
    records = full_run.records.get(stream, [])
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{stream}: duplicate records"
    assert set(ids) == set(expected), f"{stream}: missing {set(expected) - set(ids)}, extra {set(ids) - set(expected)}"
    for record in records:
        source = expected[record["id"]]
        # invoice items have a `date`, payment links no creation time at all
        created = next((name for name in ("created", "date") if name in source), None)
        if created is not None:
            assert record[created] == _iso(source[created])
            assert record["updated"] >= record[created]
        else:
            assert record["updated"], f"{stream}: a record without a creation time still has `updated`"
        assert record["account_id"] == "acct_emulator_platform"
        assert record["is_deleted"] is False
        for field in ("object", "livemode", "amount", "currency", "status", "customer", "email", "name"):
            if field in source:
                assert record[field] == source[field], f"{stream}.{field} of {record['id']}"


def test_streams_with_many_objects_were_read_in_windows(full_run: TapRun) -> None:
    # The busiest lists exceed one page: they went through the concurrent window reader, still in order.
    charges = full_run.records["charges"]
    assert len(charges) > 100
    assert [r["created"] for r in charges] == sorted(r["created"] for r in charges)


@pytest.mark.parametrize(
    ("child", "parent", "embedded", "parent_field"),
    [
        ("invoice_line_items", "invoices", "lines", "invoice"),
        ("subscription_items", "subscriptions", "items", "subscription"),
        ("transfer_reversals", "transfers", "reversals", "transfer"),
        ("application_fee_refunds", "application_fees", "refunds", "fee"),
        # --- issue 9: H8
        ("credit_note_line_items", "credit_notes", "lines", "credit_note"),
    ],
)
def test_children_of_every_parent(
    child: str, parent: str, embedded: str, parent_field: str, full_run: TapRun, control: Control
) -> None:
    expected: dict[str, str] = {}
    for obj in control.objects(parent):
        for item in (obj.get(embedded) or {}).get("data", []):
            expected[item["id"]] = obj["id"]
    records = full_run.records.get(child, [])
    assert expected, f"the emulator should embed {parent}.{embedded}"
    assert {r["id"]: r[parent_field] for r in records} == expected
    assert len(records) == len(expected)


def test_children_take_their_parents_fields(full_run: TapRun, control: Control) -> None:
    """A child list's history keeps of each parent only what the child uses (``children.py``): a credit note
    line still takes its credit note's currency, and a line's ``updated`` is its invoice's ``created``."""
    notes = {obj["id"]: obj for obj in control.objects("credit_notes")}
    note_lines = full_run.records["credit_note_line_items"]
    assert note_lines and all(line["currency"] == notes[line["credit_note"]]["currency"] for line in note_lines)
    invoices = {obj["id"]: obj for obj in control.objects("invoices")}
    invoice_lines = full_run.records["invoice_line_items"]
    assert invoice_lines
    assert all(line["updated"] == _iso(invoices[line["invoice"]]["created"]) for line in invoice_lines)


@pytest.mark.parametrize("stream", ["payment_methods", "tax_ids", "customer_balance_transactions"])
def test_every_customer_list_arrives_whole(stream: str, full_run: TapRun, control: Control) -> None:
    # --- issue 9: H8. Read per customer (no list spans customers): every object of every customer, once.
    expected = {obj["id"]: obj for obj in control.objects(stream)}
    records = full_run.records.get(stream, [])
    assert expected and len(records) == len(expected) == len({r["id"] for r in records})
    for record in records:
        source = expected[record["id"]]
        assert record["created"] == _iso(source["created"])
        for field in ("customer", "type", "amount", "currency", "ending_balance", "value"):
            assert record.get(field) == source.get(field), f"{stream}.{field} of {record['id']}"
    assert {r["customer"] for r in records} <= {c["id"] for c in control.objects("customers")}


def test_state_has_one_finished_partition_per_stream(full_run: TapRun) -> None:
    bookmarks = full_run.final_state["bookmarks"]
    for stream in [s.name for s in STREAMS]:
        partitions = bookmarks[stream]["partitions"]
        assert [p["context"] for p in partitions] == [{"account_id": "acct_emulator_platform"}]
        assert "events_since" in partitions[0]
        assert "backfill_started_at" not in partitions[0]


def test_start_date_limits_history(shared_emulator: EmulatorProcess, control: Control) -> None:
    charges = control.objects("charges")
    cutoff = sorted(obj["created"] for obj in charges)[len(charges) // 2]
    run = run_tap(tap_config(shared_emulator.url, start_date=_iso(cutoff)), streams=["charges"])
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.ids("charges")) == {obj["id"] for obj in charges if obj["created"] >= cutoff}


def test_payout_reconciliation_has_one_record_per_pair(full_run: TapRun, control: Control) -> None:
    expected = {(t["payout"], t["id"]): t for t in control.objects("payout_balance_transactions")}
    records = full_run.records.get("payout_balance_transactions", [])
    got = {(r["payout"], r["id"]): r for r in records}
    assert expected and len(records) == len(got) == len(expected)
    assert set(got) == set(expected)
    for pair, record in got.items():
        assert (record["amount"], record["currency"], record["type"]) == (
            expected[pair]["amount"],
            expected[pair]["currency"],
            expected[pair]["type"],
        )
    # Every payout's own balance transaction is among its pairs.
    for payout in control.objects("payouts"):
        assert (payout["id"], payout["balance_transaction"]) in got


# --- issue 9: H9
def test_children_listed_per_parent(full_run: TapRun, control: Control) -> None:
    """Lists their parent does not embed: a checkout session's lines, a setup intent's attempts."""
    sessions = {obj["id"]: obj for obj in control.objects("checkout_sessions")}
    lines = full_run.records["checkout_session_line_items"]
    assert {r["id"] for r in lines} == {obj["id"] for obj in control.objects("checkout_session_line_items")}
    assert len(lines) == len({r["id"] for r in lines}) > len(sessions)
    per_session: dict[str, int] = {}
    for line in lines:
        per_session[line["checkout_session"]] = per_session.get(line["checkout_session"], 0) + line["amount_subtotal"]
    # every session's lines, each under its own session: their amounts add up to the session's subtotal
    assert per_session == {sid: session["amount_subtotal"] for sid, session in sessions.items()}

    attempts = {r["id"]: r for r in full_run.records["setup_attempts"]}
    expected = {obj["id"]: obj for obj in control.objects("setup_attempts")}
    assert set(attempts) == set(expected) and len(full_run.records["setup_attempts"]) == len(expected)
    intents = {obj["id"]: obj["status"] for obj in control.objects("setup_intents")}
    for attempt_id, attempt in attempts.items():
        assert attempt["setup_intent"] == expected[attempt_id]["setup_intent"]
        assert attempt["status"] == expected[attempt_id]["status"]
        assert (attempt["status"] == "succeeded") == (intents[attempt["setup_intent"]] == "succeeded")
