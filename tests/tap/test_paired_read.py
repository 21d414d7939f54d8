"""A parent's list read once for the parent's partition and its child list's, written as a pair (``paired_read.py``).

Two promises: the list is read once for both streams (the emulator counts the requests per list), and a run
interrupted between the parent's STATE line and its child's (each stream keeps its own bookmark) resumes with
every record. In-process runs, as ``test_parent_and_child_tight_budget.py`` does.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tap_stripe_aep.exact_json import NonFiniteFloat
from tap_stripe_aep.paired_read import ChildFeed, pack_copy, unpack_copy
from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.streams.children import ChildListStream
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import Control, parse_messages, tap_config

pytestmark = pytest.mark.timeout(60)

PARENTS = ["invoices", "subscriptions"]
CHILDREN = ["invoice_line_items", "subscription_items"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with stripe_emulator(customers=300, rate_limit=0) as emulator:
        yield emulator


def _run(url: str, streams: list[str], capsys: pytest.CaptureFixture[str], **settings: Any) -> str:
    """The tap's stdout for one in-process run; what it raised, if anything, is raised after it is read."""
    state = settings.pop("state", None)
    tap = TapStripeAEP(config=tap_config(url, max_concurrency=4, **settings), state=state)
    for name, stream in tap.streams.items():
        stream.selected = name in streams
    tap.sync_all()
    return capsys.readouterr().out


def _list_requests(control: Control) -> dict[str, int]:
    by_path = control.stats()["by_path"]
    return {name: by_path.get(name, 0) for name in PARENTS}


def test_the_parents_list_is_read_once_for_the_parent_and_its_child(
    emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    control = Control(emulator.url)
    before = _list_requests(control)
    _run(emulator.url, PARENTS, capsys, backfill_window_days=20)  # many windows: a request each at least
    middle = _list_requests(control)
    records, states = parse_messages(_run(emulator.url, PARENTS + CHILDREN, capsys, backfill_window_days=20))
    after = _list_requests(control)

    for name in PARENTS:
        alone, paired = middle[name] - before[name], after[name] - middle[name]
        assert alone > 5, f"{name}: the history is too small to tell one read from two"
        # The emulator embeds every line and item (no ``has_more``), so the child costs no request of its own.
        assert paired == alone, f"{name}: {paired} requests with its child selected, {alone} alone"
    for name in PARENTS + CHILDREN:
        landed = [r["id"] for r in records[name]]
        assert len(landed) == len(set(landed)), f"{name}: a record written twice"
        assert set(landed) == {o["id"] for o in control.objects(name)}, name
    for name in PARENTS + CHILDREN:
        (partition,) = states[-1]["bookmarks"][name]["partitions"]
        assert "events_since" in partition and "backfill_started_at" not in partition, name


class _Interrupted(Exception):
    """Stands for the tap's process ending (a kill, a crash) at one chosen point."""


def test_a_run_interrupted_between_the_parents_state_and_the_childs_resumes_with_every_record(
    emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent, child = "invoices", "invoice_line_items"
    control = Control(emulator.url)
    parent_states = 0
    flush_state = StripeStream._flush_state
    make_record = ChildListStream.make_record

    def counting_flush(self: StripeStream) -> None:
        nonlocal parent_states
        flush_state(self)
        if self.name == parent and self._batch_to_end is None:
            parent_states += 1

    def interrupted_record(self: ChildListStream, obj: dict, **kwargs: Any) -> dict:
        if self.name == child and parent_states >= 3:
            raise _Interrupted("stopped after the parent's third STATE line, before the child's")
        return make_record(self, obj, **kwargs)

    # Small windows: the history is many batches, so the interruption falls mid-history.
    settings = {"backfill_window_days": 20}
    with monkeypatch.context() as patch:
        patch.setattr(StripeStream, "_flush_state", counting_flush)
        patch.setattr(ChildListStream, "make_record", interrupted_record)
        with pytest.raises(_Interrupted):
            _run(emulator.url, [parent, child], capsys, **settings)
    first, first_states = parse_messages(capsys.readouterr().out)  # what the tap wrote up to the interruption
    resume_from = first_states[-1]
    parent_at, child_at = _bookmark(resume_from, parent), _bookmark(resume_from, child)
    assert parent_at["backfill_done_through"] > child_at.get("backfill_done_through", 0), (parent_at, child_at)

    second, second_states = parse_messages(_run(emulator.url, [parent, child], capsys, state=resume_from, **settings))

    for name in (parent, child):
        resumed = [r["id"] for r in second[name]]
        assert len(resumed) == len(set(resumed)), f"{name}: a record written twice in the resumed run"
        expected = {o["id"] for o in control.objects(name)}
        landed = {r["id"] for r in first[name]} | set(resumed)
        assert landed == expected, f"{name}: {len(expected - landed)} records lost across the interruption"
        done = _bookmark(second_states[-1], name)
        assert "events_since" in done and "backfill_started_at" not in done, name


def _bookmark(state: dict, name: str) -> dict:
    (partition,) = state["bookmarks"][name]["partitions"]
    return partition


def test_a_pair_on_an_account_without_the_product_skips_both_streams(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The parent's read fails with Stripe's answer about the account: the child, fed by it, is skipped the same
    way (one warning each, state untouched), not left waiting for batches that never come."""
    streams = ["application_fees", "application_fee_refunds"]
    caplog.set_level(logging.INFO)
    with stripe_emulator(customers=10, rate_limit=0, disabled_products="Connect") as emulator:
        records, states = parse_messages(_run(emulator.url, streams, capsys))
    assert "one read of the application_fees list for both" in caplog.text
    for name in streams:
        assert not records.get(name), name
        assert caplog.text.count(f"Stream '{name}', account acct_emulator_platform: skipped") == 1, name
        partitions = states[-1]["bookmarks"].get(name, {}).get("partitions", [])
        assert all("events_since" not in p for p in partitions), name


def test_a_feed_never_waits_and_skips_a_batch_without_children() -> None:
    """The invariant the pair rests on: taking from an empty feed raises at once (only the writer's own thread
    fills it, so a wait would be forever); a batch whose parents have no children is not handed over."""
    feed = ChildFeed(
        lambda parent: dict(parent),
        lambda parent: len(parent["lines"]) if "lines" in parent else None,  # no embedded list: to be listed
        lambda parents: [[] for _ in parents],  # listed: none
    )
    assert not feed.ready()
    with pytest.raises(RuntimeError, match="before its parent handed it a batch"):
        next(feed)
    feed.put(100, feed.copies([{"id": "in_1"}, {"id": "in_2", "lines": []}]))
    assert not feed.ready(), "a batch with no child record was handed over"
    feed.put(200, feed.copies([{"id": "in_3", "lines": [{"id": "il_1"}]}]))
    assert feed.pending
    window_end, fed = next(feed)
    ((packed, listed),) = fed
    assert (window_end, unpack_copy(packed), listed) == (200, {"id": "in_3", "lines": [{"id": "il_1"}]}, None)
    feed.abandon()
    assert feed.ready()
    with pytest.raises(RuntimeError, match="ended without handing over"):
        next(feed)


def test_a_parent_copy_is_packed_and_comes_back_equal_with_its_types() -> None:
    """The copies a child keeps of its parents are bytes, smaller than the parent's JSON; unpacked, the same
    values of the same types (key order, booleans, integers beyond 64 bits, the stdlib decoder's ``NaN``)."""
    lines = [
        {"id": f"il_{i}", "amount": 2**70 + i, "proration": False, "period": {"start": 1, "end": 2}} for i in range(5)
    ]
    parent = {"id": "in_1", "created": 1700000000, "lines": {"object": "list", "data": lines, "has_more": False}}
    for value in (parent, {**parent, "rate": NonFiniteFloat("NaN")}):
        packed = pack_copy(value)
        assert isinstance(packed, bytes) and len(packed) < len(json.dumps(value))
        back = unpack_copy(packed)
        assert json.dumps(back) == json.dumps(value) and back is not value
        assert [type(v) for v in back.values()] == [type(v) for v in value.values()]
    assert type(unpack_copy(pack_copy({"rate": NonFiniteFloat("NaN")}))["rate"]) is NonFiniteFloat


def test_a_childs_copies_of_a_parent_batch_are_released_once_its_batch_is_written(
    emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the child took from its parents' batch lives outside the read budget: by the child's STATE line
    after a batch, the copies its records were made of are gone (not held until the next batch is fed).

    A child's record is its copy's dict, finished in place (``account_id`` added); the invoices' own records
    keep their lines without one. So the lines alive with an ``account_id`` at the child's STATE lines are
    what the child still holds of written batches (the record loop keeps its last record until the next)."""
    parent, child = "invoices", "invoice_line_items"
    held: list[int] = []
    flush_state = StripeStream._flush_state

    def counting_flush(self: StripeStream) -> None:
        flush_state(self)
        if self.name == child and self._batch_to_end is None:
            gc.collect()
            held.append(
                sum(
                    1
                    for o in gc.get_objects()
                    if type(o) is dict and o.get("object") == "line_item" and "account_id" in o
                )
            )

    monkeypatch.setattr(StripeStream, "_flush_state", counting_flush)
    records, _ = parse_messages(_run(emulator.url, [parent, child], capsys, backfill_window_days=20))
    assert len(held) > 5 and len(records[child]) > 10 * len(held), "too few or too small batches to tell"
    assert max(held) <= 2, f"child records still held at its STATE lines: {held}"
