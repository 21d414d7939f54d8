"""The Stripe emulator's cheaper first read answers the same bytes as the plain code it replaced.

Objects are encoded by orjson where it writes json's bytes, ids are made with the RNG inlined, and ``created``
bisects run on a list of the generated objects' times. Each is compared here with the straightforward form, on
every object of a small emulator (in-process: no HTTP).
"""

from __future__ import annotations

import bisect
import json
import random

import pytest

from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.ids import INDEX_WIDTH, IdCodec, Rng, base62
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


@pytest.mark.parametrize("value", ["Zoë", "a\x7fb", 2.5e-07, 1e-05, 2**70, [0.1, 1e16, -0.0], {"k": None}])
def test_values_the_two_libraries_write_differently_are_encoded_as_json_does(value: object) -> None:
    obj = {"id": "x", "value": value}
    assert encode(obj) == json.dumps(obj, separators=(",", ":")).encode()


def test_ids_are_the_helpers_ids(emulator: Emulator) -> None:
    def reference(codec: IdCodec, index: int) -> str:
        head = codec._head + base62(index + codec._offset, INDEX_WIDTH)
        return head + Rng(codec.salt ^ (index * 0x9E3779B1)).text(codec.suffix_len) if codec.suffix_len else head

    rng = random.Random(3)
    codecs = [
        seq.codec for seq in emulator.data[PLATFORM_ACCOUNT].seq.values() if type(seq.codec) is IdCodec
    ]  # PlanCodec maps first
    codecs += [IdCodec("x_", rng.getrandbits(64), length) for length in (0, 1, 14, 24)]
    for codec in codecs:
        for index in [*range(50), *(rng.randrange(10**9) for _ in range(50))]:
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
