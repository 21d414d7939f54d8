"""A growing account with bursty days: the history read cut by what pages reveal still reads every object once.

Most objects are recent (density doubling every 30 days) and two days each hold 3% of every list, so the reader
splits dense ranges several levels deep, ends sparse ones on one short page and reads crowded seconds by cursor.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tests.tap.tap_runner import Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

STREAMS = ["charges", "balance_transactions", "customers", "invoice_line_items"]


@pytest.fixture(scope="module")
def growing_emulator() -> Iterator[EmulatorProcess]:
    # 800 customers: 2,400 charges, enough for ranges split into sub-ranges of several pages
    with stripe_emulator(customers=800, rate_limit=0, growth_doubling_days=30, burst_days=2) as emulator:
        yield emulator


def test_full_history_of_a_growing_account_arrives_once_in_order(growing_emulator: EmulatorProcess) -> None:
    control = Control(growing_emulator.url)
    run = run_tap(tap_config(growing_emulator.url, max_concurrency=6), streams=STREAMS)
    assert run.returncode == 0, run.stderr[-3000:]
    for stream in STREAMS:
        expected = {obj["id"] for obj in control.objects(stream)}
        ids = run.ids(stream)
        assert len(ids) == len(set(ids)), f"{stream}: duplicate records"
        assert set(ids) == expected, f"{stream}: missing {len(expected - set(ids))}, extra {len(set(ids) - expected)}"
    charges = run.records["charges"]
    assert [r["created"] for r in charges] == sorted(r["created"] for r in charges)
    # The shape is what the test is about: most charges in the last tenth of the history, a bursty day.
    created = sorted(r["created"] for r in charges)
    days: dict[str, int] = {}
    for value in created:
        days[value[:10]] = days.get(value[:10], 0) + 1
    assert max(days.values()) >= 0.03 * len(created)
    # Every finished range moved the bookmark: one STATE per range handed back, not one at the end.
    assert sum(1 for s in run.states if "charges" in s.get("bookmarks", {})) > 3
