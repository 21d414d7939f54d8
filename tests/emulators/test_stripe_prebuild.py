"""``--prebuild`` changes when the Stripe emulator builds its objects, never what it answers.

Two emulators of the same seed, one built lazily (the default) and one prebuilt, answer every page of every
classic stream, on the platform and on a Connect account, with the same bytes; after the same mutation their
events and changed lists are still the same bytes. In-process (``AccountApi``): HTTP adds nothing either way.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from emulators.stripe.api import CHILD_DUMPS, STREAM_PATHS, AccountApi
from emulators.stripe.control import handle_control
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.shape import Shape
from emulators.stripe.state import Emulator, Knobs
from tests.tap.test_schemas import CLASSIC_STREAMS

pytestmark = pytest.mark.timeout(120)

CONNECTED = "acct_prebuild_c1"
NOW = 1_790_000_000


def _emulator(shape: Shape, *, prebuild: bool) -> Emulator:
    emulator = Emulator(
        seed=11,
        customers=60,
        accounts=[CONNECTED],
        history_days=730,
        api_version="2026-10-28.endive",
        knobs=Knobs(),
        now=NOW,
        shape=shape,
    )
    # Both answer at the same instant (mutations stamp objects and events with the emulator's now).
    emulator.clock.now = lambda: NOW + emulator.clock.advanced  # type: ignore[method-assign]
    if prebuild:
        emulator.prebuild()
    return emulator


@pytest.fixture(scope="module", params=["even", "growing"])
def pair(request: pytest.FixtureRequest) -> tuple[Emulator, Emulator]:
    shape = Shape(growth_doubling_days=90, burst_days=2) if request.param == "growing" else Shape()
    return _emulator(shape, prebuild=False), _emulator(shape, prebuild=True)


def _pages(api: AccountApi, path: str, extra: str = "") -> list[bytes]:
    """Every page of a list, newest first, 100 a page (``starting_after`` from the page's last id)."""
    pages, after = [], ""
    while True:
        page = api.list_page(path, f"limit=100{extra}{after}")
        pages.append(page)
        body = json.loads(page)
        if not body["has_more"]:
            return pages
        after = "&starting_after=" + body["data"][-1]["id"]


def _every_classic_page(emulator: Emulator, account: str) -> dict[str, list[bytes]]:
    api = AccountApi(emulator, account)
    answers: dict[str, list[bytes]] = {}
    for stream in CLASSIC_STREAMS:
        if stream in CHILD_DUMPS:  # invoice lines and subscription items: each parent's own list
            parent = CHILD_DUMPS[stream]
            ids = [json.loads(p)["data"] for p in _pages(api, STREAM_PATHS[parent])]
            answers[stream] = [api.child_list(parent, obj["id"], "limit=100") for page in ids for obj in page]
        else:
            answers[stream] = _pages(api, STREAM_PATHS[stream])
    # what the tap's history read of sessions sends
    answers["checkout_sessions+lines"] = _pages(api, "checkout/sessions", "&expand[]=data.line_items")
    return answers


@pytest.mark.parametrize("account", [PLATFORM_ACCOUNT, CONNECTED])
def test_every_classic_page_is_the_same_bytes_prebuilt(pair: tuple[Emulator, Emulator], account: str) -> None:
    lazy, prebuilt = pair
    expected, got = _every_classic_page(lazy, account), _every_classic_page(prebuilt, account)
    assert sum(len(pages) for pages in expected.values()) > 60  # every stream read, most over several pages
    for stream in expected:
        assert got[stream] == expected[stream], stream


def test_events_and_lists_after_a_mutation_are_the_same_bytes_prebuilt() -> None:
    lazy, prebuilt = _emulator(Shape(), prebuild=False), _emulator(Shape(), prebuild=True)
    body = json.dumps({"updates": 40, "deletes": 6, "creates": 8, "remove_items": 2, "billing": 1}).encode()
    for account in (PLATFORM_ACCOUNT, CONNECTED):
        answers = [handle_control(e, "POST", "/_emulator/mutate", f"account={account}", body) for e in (lazy, prebuilt)]
        assert answers[0] == answers[1] and answers[0][0] == 200
        assert answers[0][1]["updated"]  # something did change
    for account in (PLATFORM_ACCOUNT, CONNECTED):
        expected, got = _every_classic_page(lazy, account), _every_classic_page(prebuilt, account)
        assert any(b"emulator_rev" in page for page in expected["events"])  # the update events are listed
        for stream in expected:
            assert got[stream] == expected[stream], (account, stream)


def test_prebuild_encodes_every_generated_object_at_its_own_size() -> None:
    emulator = _emulator(Shape(), prebuild=True)
    for account, data in emulator.data.items():
        for seq in [*data.seq.values(), emulator.events[account].seq]:
            assert len(seq._encoded) == seq.base_count, (account, seq.name)
    # orjson's bytes keep their write buffer (16 KB a 1.5 KB charge): the cache must hold exact-size copies.
    charges = _emulator(Shape(), prebuild=False).data[PLATFORM_ACCOUNT].seq["charges"]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        charges.prebuild()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    encoded = sum(len(data) for data in charges._encoded.values())
    assert encoded > 100_000
    assert held < 2 * encoded
