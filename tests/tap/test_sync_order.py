"""The tap writes whatever history is read, not the catalog's next partition (``sync_order.py``, ``interleave.py``).

What may change is only the order in which partitions' batches follow one another in the output, switching only
right after a STATE line. These tests hold the rest: each stream's records are those of the stream synced alone,
in the same order; a partition read whole is written before one still being read; and a STATE line never
promises a record not yet written, nor leaves one to read again, so a run stopped after any STATE line resumes
missing nothing and repeating nothing.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.backfill import created_of
from tests.tap.tap_runner import Control, TapRun, run_tap, start_tap, tap_config

pytestmark = pytest.mark.timeout(180)

LARGE = "balance_transactions"  # first in the catalog's order, several pages even on a small account
SMALL = "coupons"  # one page
STREAMS = [LARGE, SMALL, "invoice_line_items"]  # a large list, a one-page one, a child list
# Wall clock: Stripe's "now" when each run started.
RUN_CLOCK = ("backfill_started_at", "events_since")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with stripe_emulator(customers=120, rate_limit=0) as emulator:
        yield emulator


def _latency(emulator: EmulatorProcess, ms: int) -> None:
    Control(emulator.url).post("faults", {"latency_ms": ms})


def _order_of_streams(stdout: str) -> list[str]:
    """The streams of the RECORD lines, in output order, each run of one stream's records counted once."""
    order: list[str] = []
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD" and (not order or order[-1] != message["stream"]):
            order.append(message["stream"])
    return order


def test_a_partition_read_whole_is_written_before_one_still_being_read(emulator: EmulatorProcess) -> None:
    control = Control(emulator.url)
    assert len(control.objects(LARGE)) > 300, "the large stream must take several pages for this test to say anything"
    assert len(control.objects(SMALL)) < 100
    # 150 ms a request: a list of several pages takes several round trips (its first page, then the ranges it
    # reveals), a one-page list a single one.
    _latency(emulator, 150)
    run = run_tap(tap_config(emulator.url, max_concurrency=4), streams=[LARGE, SMALL])
    assert run.returncode == 0, run.stderr[-3000:]
    # The catalog's order is balance_transactions, then coupons; coupons is read after one round trip, the
    # large list after several, so the SDK thread writes coupons while the large one is still being read.
    assert _order_of_streams(run.stdout) == [SMALL, LARGE]
    assert set(run.ids(SMALL)) == {o["id"] for o in control.objects(SMALL)}
    assert set(run.ids(LARGE)) == {o["id"] for o in control.objects(LARGE)}


def test_each_stream_has_the_records_and_state_of_the_stream_synced_alone(emulator: EmulatorProcess) -> None:
    _latency(emulator, 20)  # enough for partitions to be read in parallel, and written in another order
    config = tap_config(emulator.url, max_concurrency=4)
    together = run_tap(config, streams=STREAMS)
    assert together.returncode == 0, together.stderr[-3000:]
    assert sorted(set(_order_of_streams(together.stdout))) == sorted(STREAMS)
    _assert_each_stream_as_synced_alone(config, together, STREAMS)
    for name in STREAMS:
        (partition,) = together.final_state["bookmarks"][name]["partitions"]
        assert set(partition) >= {"context", "events_since"} and "backfill_started_at" not in partition, name


def test_an_interrupted_run_states_only_what_it_wrote_and_the_resume_misses_nothing(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = Control(emulator.url)
    streams = [LARGE, "charges", SMALL, "customers"]
    expected = {name: {o["id"]: created_of(o) for o in control.objects(name)} for name in streams}
    # 30-day windows: a STATE after each, so the signal comes mid-partition for some streams.
    _latency(emulator, 50)
    config = tap_config(emulator.url, max_concurrency=2, backfill_window_days=30)
    written: dict[str, set[str]] = {name: set() for name in streams}
    states: list[dict[str, Any]] = []
    proc = start_tap(config, tmp_path, streams=streams)
    assert proc.stdout is not None
    for line in proc.stdout:
        _take(json.loads(line), written, states)
        if len(states) >= 6:
            break
    proc.send_signal(signal.SIGTERM)
    for line in proc.stdout.read().splitlines():
        _take(json.loads(line), written, states)
    assert proc.wait(timeout=30) == 143
    assert any(written[n] != set(expected[n]) for n in streams), "the run ended before the signal: nothing tested"

    last = states[-1]["bookmarks"]
    for name in streams:
        for partition in last.get(name, {}).get("partitions", []):
            if "backfill_started_at" not in partition and "events_since" in partition:
                promised = set(expected[name])  # the whole history
            else:
                done = partition.get("backfill_done_through", 0)
                promised = {i for i, created in expected[name].items() if created < done}
            assert promised <= written[name], f"{name}: the state promises {len(promised - written[name])} unwritten"

    _latency(emulator, 0)
    resumed = run_tap(config, state=states[-1], streams=streams)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for name in streams:
        assert written[name] | set(resumed.ids(name)) == set(expected[name]), f"{name}: objects never written"
    started_over = [n for n in streams if written[n] and set(resumed.ids(n)) == set(expected[n])]
    assert not started_over, f"resumed from scratch: {started_over}"


INTERLEAVED = ["balance_transactions", "charges", "customers", "invoices"]


def test_partitions_written_by_turns_switch_only_after_a_state_line_and_resume_from_any_of_them(
    emulator: EmulatorProcess,
) -> None:
    """Batches of several partitions alternate, each switch right after a STATE line; every STATE line is a
    bookmark that, resumed from, reads exactly what was not written before it; each stream is the stream alone."""
    control = Control(emulator.url)
    expected = {name: {o["id"] for o in control.objects(name)} for name in INTERLEAVED}
    # Many small windows, read by a few slow requests: one partition's next window is often not read yet while
    # another's is, which is when the writer switches.
    _latency(emulator, 60)
    config = tap_config(emulator.url, max_concurrency=3, backfill_window_days=20)
    run = run_tap(config, streams=INTERLEAVED)
    assert run.returncode == 0, run.stderr[-3000:]
    messages = [json.loads(line) for line in run.stdout.splitlines()]

    # Switches happen only right after a STATE line, and they did happen (a stream's records in several runs).
    last_record_stream, state_since = None, True
    for message in messages:
        if message["type"] == "STATE":
            state_since = True
        elif message["type"] == "RECORD":
            if message["stream"] != last_record_stream:
                assert state_since, f"{last_record_stream} -> {message['stream']} without a STATE line between"
            last_record_stream, state_since = message["stream"], False
    runs = _order_of_streams(run.stdout)
    assert len(runs) > len(set(runs)), f"no partition was written by turns: {runs}"

    # Each stream: the records of the stream synced alone, in the same order; the same final bookmark.
    _assert_each_stream_as_synced_alone(config, run, INTERLEAVED)

    # Stopped right after a STATE line, at several points, and resumed from it: nothing missed, nothing repeated.
    _latency(emulator, 0)
    states = [i for i, message in enumerate(messages) if message["type"] == "STATE"]
    for at in (states[len(states) // 4], states[len(states) // 2], states[3 * len(states) // 4]):
        written: dict[str, set[str]] = {name: set() for name in INTERLEAVED}
        for message in messages[:at]:
            if message["type"] == "RECORD":
                written[message["stream"]].add(message["record"]["id"])
        resumed = run_tap(config, state=messages[at]["value"], streams=INTERLEAVED)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        for name in INTERLEAVED:
            again = set(resumed.ids(name))
            assert written[name] | again == expected[name], f"{name}, STATE line {at}: objects never written"
            assert not written[name] & again, f"{name}, STATE line {at}: {len(written[name] & again)} written twice"


def _take(message: dict[str, Any], written: dict[str, set[str]], states: list[dict[str, Any]]) -> None:
    if message["type"] == "RECORD":
        written[message["stream"]].add(message["record"]["id"])
    elif message["type"] == "STATE":
        states.append(message["value"])


def _without_clock(bookmark: dict[str, Any]) -> dict[str, Any]:
    masked = json.loads(json.dumps(bookmark))
    for partition in masked.get("partitions", []):
        for key in RUN_CLOCK:
            if key in partition:
                partition[key] = "<clock>"
    return masked


def _assert_each_stream_as_synced_alone(config: dict[str, Any], run: TapRun, names: list[str]) -> None:
    """Each of ``names`` in ``run``: the records of the stream synced alone, in the same order, and the same final
    bookmark (wall-clock values aside)."""
    for name in names:
        alone = run_tap(config, streams=[name])
        assert alone.returncode == 0, alone.stderr[-3000:]
        assert run.records[name] == alone.records[name], f"{name}: other records or another order"
        assert _without_clock(run.final_state["bookmarks"][name]) == _without_clock(
            alone.final_state["bookmarks"][name]
        ), name
