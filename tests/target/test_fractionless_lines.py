"""A schema that admits no number with a fraction (the catalog's): its valid records are encoded without the look
for what orjson writes unlike json (`encode_fractionless_line`), and still give exactly json's bytes."""

from __future__ import annotations

import copy
import json
import random
import struct
from typing import Any

import pytest

from target_aep.json_lines import encode_fractionless_line
from target_aep.mapping_workers.records import map_group
from target_aep.xdm import build_mapper
from target_aep.xdm.validation import XdmValidator, admits_fractions
from tests.target.test_compiled_mapping import SAMPLES, SCHEMAS, _mutate

pytestmark = pytest.mark.timeout(120)
CLOSED = {"type": "object", "additionalProperties": False}


def _stdlib(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("schema", "admits"),
    [
        ({**CLOSED, "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}}}, False),
        ({**CLOSED, "properties": {"a": {"type": "number"}}}, True),
        ({**CLOSED, "properties": {"a": {"type": ["integer", "number"]}}}, True),
        ({**CLOSED, "properties": {"a": {"description": "no type: anything"}}}, True),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),  # other keys: anything
        ({"type": "object", "additionalProperties": {"type": "string"}}, False),  # a map of strings
        ({**CLOSED, "patternProperties": {"^x": {"type": "number"}}}, True),
        ({**CLOSED, "properties": {"a": {"type": "array"}}}, True),  # items: anything
        ({**CLOSED, "properties": {"a": {"type": "array", "items": {"type": "boolean"}}}}, False),
        ({**CLOSED, "properties": {"a": {"type": "array", "items": [{"type": "string"}]}}}, True),
        ({**CLOSED, "properties": {"a": {"$ref": "#/definitions/x"}}}, True),
        ({**CLOSED, "properties": {"a": {"type": "string", "anyOf": [{"type": "number"}]}}}, False),
        (SCHEMAS["stripe-catalog-record"], False),
        (SCHEMAS["stripe-commerce-event"], True),
        (SCHEMAS["stripe-customer-profile"], True),
    ],
)
def test_a_schema_admits_fractions_unless_every_value_it_lets_through_is_known(schema: dict, admits: bool) -> None:
    assert admits_fractions(schema) is admits


def test_fractionless_values_encode_as_json_does() -> None:
    rng = random.Random(5)
    for _ in range(5_000):
        integral = float(rng.choice([rng.randint(-(10**6), 10**6), rng.getrandbits(60), 10 ** rng.randint(15, 300)]))
        value = {
            "f": rng.choice([integral, -0.0, 5.0, 1e16, 1e22]),
            "i": rng.getrandbits(rng.randint(1, 70)),  # beyond 64 bits: json's encoder
            "s": "".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0x3000)])) for _ in range(6)),
            "t": "1e-5 0.00001 null",
            "l": [True, False, None, {}],
        }
        assert encode_fractionless_line(value) == _stdlib(value), value
    lone = {"s": "\ud800"}
    with pytest.raises(UnicodeEncodeError):  # json's own error, as `encode_line` gives it
        encode_fractionless_line(lone)
    assert struct.pack("d", -0.0) != struct.pack("d", 0.0)  # -0.0 above is a value of its own


def test_catalog_records_are_encoded_without_the_look_and_give_json_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream's sample records, with odd values (floats, NaN-free big numbers, unicode, nulls), mapped for
    the catalog schema: each valid one's line is json's, and `_may_differ` is never asked."""
    monkeypatch.setattr("target_aep.json_lines._may_differ", lambda line: 1 / 0)
    schema = SCHEMAS["stripe-catalog-record"]
    validator = XdmValidator(schema)
    rng = random.Random(3)
    landed = 0
    for stream, samples in SAMPLES.items():
        mapper = build_mapper(stream, schema, tenant_id="acme")
        records = [_mutate(rng.choice(samples), rng) for _ in range(40)]
        stages = {"mapping": 0.0, "validation": 0.0, "serialization": 0.0}
        expected = []
        for record in records:
            try:
                xdm = mapper.map(copy.deepcopy(record))
            except Exception:  # dead-lettered by `map_group`
                xdm = None
            mapper.take_repairs()
            expected.append(_stdlib(xdm) if xdm is not None and not validator.errors(xdm) else None)
        outcomes = map_group(stream, mapper, validator, records, stages)
        for outcome, line in zip(outcomes, expected, strict=True):
            if outcome[0] is not None:
                assert outcome[0] == line
                landed += 1
    assert landed > 1_000
