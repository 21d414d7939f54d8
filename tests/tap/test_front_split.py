"""The range blocking a history read's next batch is read in parallel parts, never as a chain of cursor pages.

At 100 requests/s a pool's workers are never idle, so the idle-worker cut (``test_idle_split.py``) never fired:
the oldest range of a read went on page after page by cursor (about 0.45 s each) while everything read behind it
waited and held the read budget (issue 10, session 6). Against the Stripe emulator (50 ms a request): the front
range is cut though no worker is idle, every object arrives once in order, and a burst of objects in one
``created`` second at a cut's edge is neither lost nor doubled, in the tap's output or after a resume from a
STATE line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.backfill import created_of, read_history
from tests.tap.tap_runner import Control, run_tap, tap_config
from tests.tap.test_idle_split import _Recorder

pytestmark = pytest.mark.timeout(90)

BURST = 320  # customers created in one second: more than three pages of the same ``created``


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    # 300 customers: about 900 charges, a range the first page says holds under 20 pages (read on by cursor)
    with stripe_emulator(customers=300, rate_limit=0, latency_ms=50) as running:
        control = Control(running.url)
        for _ in range(3):  # a burst straddling a second's edge is retried (the clock is the wall's)
            control.post("mutate", {"creates": BURST, "resources": ["customers"]})
            seconds = Counter(created_of(o) for o in control.objects("customers"))
            if max(seconds.values()) >= BURST:
                break
            control.post("clock", {"advance_seconds": 5})
        # ... then a few newer ones, so the burst's second is the oldest of the first page: where it is cut
        control.post("clock", {"advance_seconds": 3600})
        control.post("mutate", {"creates": 40, "resources": ["customers"]})
        yield running


def test_the_front_range_is_cut_though_no_worker_is_idle(emulator: EmulatorProcess) -> None:
    expected = sorted(Control(emulator.url).objects("charges"), key=lambda o: (created_of(o), o["id"]))
    assert 500 <= len(expected) <= 1900  # the first page's density says "a few pages left": read on by cursor
    start, end = created_of(expected[0]), created_of(expected[-1]) + 1
    recorder = _Recorder(emulator.url)
    # A plain pool: it never reports idle workers, as the tap's pool at 100 requests/s; a read held to its front
    # ranges from its first page (``max_held``), as reads are while the read budget is spent.
    with ThreadPoolExecutor(8) as pool:
        batches = list(read_history(start, end, recorder.fetch, pool, max_in_flight=8, max_held=0))

    got = [obj for _, batch in batches for obj in batch]
    assert [o["id"] for o in got] == [o["id"] for o in expected]  # every charge once, oldest first
    assert batches[-1][0] == end
    # Without the cut: 8 of 9 requests are cursor pages, one in flight at a time.
    cursor_pages = sum(1 for r in recorder.requests if r[2] is not None)
    assert cursor_pages <= len(recorder.requests) // 2, recorder.requests
    assert recorder.most_in_flight >= 3, recorder.requests
    assert len(got) / len(recorder.requests) >= 80, recorder.requests  # a short page a part, no more


def test_a_burst_in_one_second_arrives_once_and_resumes_from_any_state(emulator: EmulatorProcess) -> None:
    control = Control(emulator.url)
    expected = {o["id"] for o in control.objects("customers")}
    seconds = Counter(created_of(o) for o in control.objects("customers"))
    assert max(seconds.values()) >= BURST
    # Paced (a page every 50 ms), so the tap writes the history batch by batch as it arrives: unpaced, a loaded
    # machine's tap could read it all before writing its first batch, leaving too few STATE lines to resume from.
    config = tap_config(emulator.url, max_concurrency=6, max_requests_per_second=20)
    run = run_tap(config, streams=["customers"])
    assert run.returncode == 0, run.stderr[-3000:]
    ids = run.ids("customers")
    assert len(ids) == len(set(ids)), "a customer written twice"
    assert set(ids) == expected

    # Each STATE line covers only records written before it: none written after it is older than its bookmark.
    messages = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    states = [(i, m["value"]) for i, m in enumerate(messages) if m["type"] == "STATE"]
    states = [(i, state) for i, state in states if "customers" in state["bookmarks"]]
    cuts = [(i, _done_through(state)) for i, state in states if _done_through(state) is not None]
    assert len(cuts) >= 3, cuts
    created_by_id = {o["id"]: created_of(o) for o in control.objects("customers")}
    for at, done_through in cuts:
        later = [m["record"]["id"] for m in messages[at:] if m["type"] == "RECORD"]
        assert all(created_by_id[i] >= done_through for i in later), (at, done_through)

    # Resumed from a STATE line in the middle: together the two runs wrote every customer, the rest once.
    at, state = states[len(states) // 2]
    before = {m["record"]["id"] for m in messages[:at] if m["type"] == "RECORD"}
    resumed = run_tap(config, state=state, streams=["customers"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    again = resumed.ids("customers")
    assert len(again) == len(set(again))
    assert before | set(again) == expected
    assert not before & set(again), "a customer the first run's STATE covered was read again"


def _done_through(state: dict[str, Any]) -> int | None:
    partitions = state["bookmarks"]["customers"].get("partitions") or [state["bookmarks"]["customers"]]
    value = partitions[0].get("backfill_done_through")
    return int(value) if value is not None else None
