"""The Stripe emulator's cheaper first read answers the same bytes as the plain code it replaced.

Objects are encoded by orjson where it writes json's bytes, ids and random text are made two digits a division
(and ids with the RNG inlined), and ``created`` bisects run on a list of the generated objects' times. Each is
compared here with the straightforward form, on every object of a small emulator (in-process: no HTTP).
"""

from __future__ import annotations

import bisect
import json
import random

import pytest

from emulators.stripe.api import _list_bytes
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.ids import ALPHABET, INDEX_WIDTH, MASK64, IdCodec, Rng, base62, mix64
from emulators.stripe.sequence import encode
from emulators.stripe.shape import Shape
from emulators.stripe.state import Emulator, Knobs

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", params=["even", "growing"])
def emulator(request: pytest.FixtureRequest) -> Emulator:
    shape = Shape(growth_doubling_days=90, burst_days=2) if request.param == "growing" else Shape()
    return Emulator(
        seed=7, customers=40, accounts=[], history_days=730, api_version="2026-10-28.endive", knobs=Knobs(), shape=shape
    )


def test_every_object_is_encoded_as_json_dumps_encodes_it(emulator: Emulator) -> None:
    data = emulator.data[PLATFORM_ACCOUNT]
    compared = 0
    for seq in data.seq.values():
        for index in range(len(seq)):
            obj = seq.get(index)
            assert encode(obj) == json.dumps(obj, separators=(",", ":")).encode(), (seq.name, index)
            compared += 1
    assert compared > 500


@pytest.mark.parametrize(
    "value", ["Zoë", "a\x7fb", 2.5e-07, 1e-05, 2**70, [0.1, 1e16, -0.0], {"k": None}, ["One-off", 2.5e-07], "One-off"]
)
def test_values_the_two_libraries_write_differently_are_encoded_as_json_does(value: object) -> None:
    obj = {"id": "x", "value": value}
    assert encode(obj) == json.dumps(obj, separators=(",", ":")).encode()


def plain_text(rng: Rng, n: int, alphabet: str = ALPHABET) -> str:
    """``Rng.text`` as it was first written: one division a character."""
    x = rng.next()
    out = []
    for _ in range(n):
        if x < len(alphabet):
            x = rng.next()
        x, r = divmod(x, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


class ScriptedRng(Rng):
    """Draws the given values, then the RNG's own: the draws a random seed almost never gives (below the base)."""

    def __init__(self, draws: list[int]) -> None:
        super().__init__(99)
        self.draws = list(draws)

    def next(self) -> int:
        return self.draws.pop(0) if self.draws else super().next()


EDGE_DRAWS = [0, 1, 61, 62, 63, 3843, 3844, 62**3 - 1, 62**3, 62**10, 62**10 - 1, 2**64 - 1, 5, 0, 7]


@pytest.mark.parametrize("alphabet", [ALPHABET, "0123456789ABCDEF", "ABCDEFGHJKLMNPQRSTUVWXYZ"])
def test_text_is_the_plain_loops_text_with_the_same_draws(alphabet: str) -> None:
    rng = random.Random(11)
    for n in (0, 1, 3, 8, 10, 11, 14, 16, 24, 40):
        for start in range(len(EDGE_DRAWS)):
            script = EDGE_DRAWS[start:] + EDGE_DRAWS[:start]
            fast, plain = ScriptedRng(script), ScriptedRng(script)
            assert fast.text(n, alphabet) == plain_text(plain, n, alphabet), (n, script)
            assert fast.next() == plain.next()  # as many draws taken
        for _ in range(200):
            seed = rng.getrandbits(64)
            fast, plain = Rng(seed), Rng(seed)
            assert fast.text(n, alphabet) == plain_text(plain, n, alphabet)
            assert fast.state == plain.state


def test_draws_are_splitmix64s() -> None:
    rng, state = Rng(2**64 - 5), 2**64 - 5
    for _ in range(100):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        assert rng.next() == mix64(state)


def test_ids_are_the_helpers_ids(emulator: Emulator) -> None:
    def reference(codec: IdCodec, index: int) -> str:
        head = codec._head + base62(index + codec._offset, INDEX_WIDTH)
        return head + plain_text(Rng(codec.salt ^ (index * 0x9E3779B1)), codec.suffix_len) if codec.suffix_len else head

    rng = random.Random(3)
    codecs = [
        seq.codec for seq in emulator.data[PLATFORM_ACCOUNT].seq.values() if type(seq.codec) is IdCodec
    ]  # PlanCodec maps first
    codecs += [IdCodec("x_", rng.getrandbits(64), length) for length in (0, 1, 14, 24)]
    for codec in codecs:
        for index in [*range(50), *(rng.randrange(10**9) for _ in range(50)), 62**8 - codec._offset + 3]:
            assert codec.make(index) == reference(codec, index)


def test_created_bisects_are_the_key_function_bisects(emulator: Emulator) -> None:
    rng = random.Random(5)
    for seq in emulator.data[PLATFORM_ACCOUNT].seq.values():
        if not len(seq):
            continue
        times = [seq.created(0) - 1, seq.created(len(seq) - 1) + 1]
        times += [seq.created(rng.randrange(len(seq))) + rng.choice((-1, 0, 1)) for _ in range(40)]
        for created in times:
            for right in (False, True):
                fn = bisect.bisect_right if right else bisect.bisect_left
                assert seq.bound(created, right=right) == fn(range(len(seq)), created, key=seq.created)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
@pytest.mark.parametrize("has_more", [True, False])
def test_a_page_of_encoded_objects_is_the_page_json_dumps_writes(count: int, has_more: bool) -> None:
    objects = [{"id": f"ch_{n}", "amount": n, "metadata": {}} for n in range(count)]
    page = _list_bytes([encode(obj) for obj in objects], has_more, "/v1/charges")
    plain = {"object": "list", "data": objects, "has_more": has_more, "url": "/v1/charges"}
    assert page == json.dumps(plain, separators=(",", ":")).encode()
