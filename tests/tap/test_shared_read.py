"""One read of a parent's list feeds the parent's stream and its child's (``shared_read.py``), on the emulator."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tests.tap.tap_runner import Control, TapRun, run_tap, start_tap, tap_config

pytestmark = pytest.mark.timeout(180)

BOTH = ["invoices", "invoice_line_items"]
# Small windows: many batches, so that a run can be stopped between two of them.
SETTINGS = {"backfill_window_days": 30, "max_concurrency": 4}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with stripe_emulator(customers=400, rate_limit=0) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def expected(emulator: EmulatorProcess) -> tuple[set[str], dict[str, str]]:
    invoices = Control(emulator.url).objects("invoices")
    lines = {line["id"]: inv["id"] for inv in invoices for line in inv["lines"]["data"]}
    assert len(invoices) > 300 and len(lines) > len(invoices)
    return {inv["id"] for inv in invoices}, lines


def _invoice_list_reads(emulator: EmulatorProcess, streams: list[str], **run: Any) -> tuple[TapRun, int]:
    control = Control(emulator.url)
    before = control.stats()["by_path"].get("invoices", 0)
    result = run_tap(tap_config(emulator.url, **SETTINGS), streams=streams, **run)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, control.stats()["by_path"].get("invoices", 0) - before


def _assert_lands_once(run: TapRun, expected: tuple[set[str], dict[str, str]]) -> None:
    invoices, lines = expected
    assert sorted(run.ids("invoices")) == sorted(invoices)
    records = run.records["invoice_line_items"]
    assert len(records) == len(lines)
    assert {r["id"]: r["invoice"] for r in records} == lines


def test_one_read_of_the_invoices_list_for_invoices_and_their_lines(
    emulator: EmulatorProcess, expected: tuple[set[str], dict[str, str]]
) -> None:
    _, parent_alone = _invoice_list_reads(emulator, ["invoices"])
    both, reads = _invoice_list_reads(emulator, BOTH)
    assert reads == parent_alone  # the lines cost no read of the invoices list of their own
    _assert_lands_once(both, expected)
    assert "one read of the invoices list for both" in both.stderr
    # Each stream keeps its own state: both finished, each its own partition.
    for stream in BOTH:
        (partition,) = both.final_state["bookmarks"][stream]["partitions"]
        assert "events_since" in partition and "backfill_started_at" not in partition
    # The lines are written as their invoices are: same line values as the invoices' embedded ones.
    embedded = {line["id"]: line for inv in both.records["invoices"] for line in inv["lines"]["data"]}
    for record in both.records["invoice_line_items"]:
        assert record["amount"] == embedded[record["id"]]["amount"]
        assert record["period"] == embedded[record["id"]]["period"]


def test_only_the_child_selected_reads_the_parents_list_itself(
    emulator: EmulatorProcess, expected: tuple[set[str], dict[str, str]]
) -> None:
    alone, reads = _invoice_list_reads(emulator, ["invoice_line_items"])
    assert reads > 0
    assert {r["id"]: r["invoice"] for r in alone.records["invoice_line_items"]} == expected[1]
    assert "one read of" not in alone.stderr


@pytest.mark.parametrize(("stop_after", "share"), [("invoices", 3), ("invoice_line_items", 3), ("invoices", 1)])
def test_interrupted_then_resumed_from_the_last_state_loses_nothing(
    stop_after: str,
    share: int,
    emulator: EmulatorProcess,
    expected: tuple[set[str], dict[str, str]],
    tmp_path: Path,
) -> None:
    """Killed once 1/``share`` of ``stop_after``'s records are out (mid-parent, mid-child, after the parent; the other
    stream anywhere), resumed from the last STATE line: every invoice and line lands, and a resumed partition
    re-reads only its unfinished history."""
    config = tap_config(emulator.url, **SETTINGS)
    proc = start_tap(config, tmp_path, streams=BOTH)
    assert proc.stdout is not None
    seen: dict[str, set[str]] = {stream: set() for stream in BOTH}
    last_state: dict[str, Any] | None = None
    target = len(expected[0] if stop_after == "invoices" else expected[1]) // share
    for line in proc.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            seen[message["stream"]].add(message["record"]["id"])
        elif message["type"] == "STATE":
            last_state = message["value"]
            if len(seen[stop_after]) >= target:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last_state is not None, "no STATE line before the kill"
    resumed, _ = _invoice_list_reads(emulator, BOTH, state=last_state)
    assert seen["invoices"] | set(resumed.ids("invoices")) == expected[0]
    assert seen["invoice_line_items"] | set(resumed.ids("invoice_line_items")) == set(expected[1])
    partitions = last_state["bookmarks"][stop_after]["partitions"]
    if "backfill_done_through" in partitions[0]:  # resumed, not restarted
        assert len(set(resumed.ids(stop_after))) < len(expected[0] if stop_after == "invoices" else expected[1])


def test_a_childs_slim_parent_shares_nothing_with_the_parents_record() -> None:
    """The child's records are made in place from the embedded list, which the parent's record also holds."""
    from tap_stripe_aep.tap import TapStripeAEP

    tap = TapStripeAEP(config={"api_key": "sk_test_x"}, validate_config=False, setup_mapper=False)
    lines = tap.streams["invoice_line_items"]
    invoice = {"id": "in_1", "created": 5, "total": 9, "lines": {"data": [{"id": "il_1", "period": {"start": 5}}]}}
    slim = lines.parent_slimmer()(invoice)
    assert slim == {"id": "in_1", "created": 5, "lines": invoice["lines"]}  # cut to what the child uses
    slim["lines"]["data"][0]["period"]["start"] = "changed"
    slim["lines"]["data"][0]["account_id"] = "acct_x"
    assert invoice["lines"]["data"][0] == {"id": "il_1", "period": {"start": 5}}


def test_parent_resumed_mid_history_and_child_fresh_each_read_their_own(
    emulator: EmulatorProcess, expected: tuple[set[str], dict[str, str]], tmp_path: Path
) -> None:
    """Different starting points, different histories: no shared read, and nothing lost on either side."""
    proc = start_tap(tap_config(emulator.url, **SETTINGS), tmp_path, streams=["invoices"])
    assert proc.stdout is not None
    seen: set[str] = set()
    last_state: dict[str, Any] | None = None
    for line in proc.stdout:
        message = json.loads(line)
        if message["type"] == "RECORD":
            seen.add(message["record"]["id"])
        elif message["type"] == "STATE" and seen:
            last_state = message["value"]
            if len(seen) >= len(expected[0]) // 3:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last_state is not None
    assert "backfill_done_through" in last_state["bookmarks"]["invoices"]["partitions"][0]
    resumed, _ = _invoice_list_reads(emulator, BOTH, state=last_state)
    assert "one read of" not in resumed.stderr
    assert seen | set(resumed.ids("invoices")) == expected[0]
    assert len(set(resumed.ids("invoices"))) < len(expected[0])
    assert {r["id"]: r["invoice"] for r in resumed.records["invoice_line_items"]} == expected[1]
