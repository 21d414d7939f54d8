"""Epoch -> RFC 3339 conversion and the convention fields every record gets."""

from __future__ import annotations

import copy
import time
import timeit
from typing import Any

import pytest

from tap_stripe_aep.record_conventions import (
    RFC3339_UTC,
    TimestampConverter,
    epoch_to_rfc3339,
    finalize_record,
)
from tap_stripe_aep.schemas import load_schema

pytestmark = pytest.mark.timeout(60)

DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "created": DATE_TIME,
        "amount": {"type": "integer"},
        "status_transitions": {
            "type": ["object", "null"],
            "properties": {"paid_at": DATE_TIME, "voided_at": DATE_TIME, "attempts": {"type": "integer"}},
        },
        "lines": {
            "type": "object",
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "quantity": {"type": "integer"},
                            "period": {"type": "object", "properties": {"start": DATE_TIME, "end": DATE_TIME}},
                        },
                    },
                },
                "has_more": {"type": "boolean"},
            },
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "no_times_here": {"type": "object", "properties": {"count": {"type": "integer"}}},
    },
}


def test_epoch_to_rfc3339() -> None:
    assert epoch_to_rfc3339(0) == "1970-01-01T00:00:00Z"
    assert epoch_to_rfc3339(1_700_000_000) == "2023-11-14T22:13:20Z"
    assert epoch_to_rfc3339(-1) == "1969-12-31T23:59:59Z"
    assert epoch_to_rfc3339(253_402_300_799) == "9999-12-31T23:59:59Z"


def test_epoch_to_rfc3339_agrees_with_strftime() -> None:
    for epoch in [*range(-100_000, 100_000, 997), *range(1_600_000_000, 1_900_000_000, 999_983)]:
        assert epoch_to_rfc3339(epoch) == time.strftime(RFC3339_UTC, time.gmtime(epoch)), epoch


def test_paths_are_precomputed_from_the_schema() -> None:
    converter = TimestampConverter.from_schema(SCHEMA)
    assert converter.paths == (
        "created",
        "lines.data.period.end",
        "lines.data.period.start",
        "status_transitions.paid_at",
        "status_transitions.voided_at",
    )


def test_nested_and_array_timestamps_are_converted_in_place() -> None:
    record = {
        "id": "in_1",
        "created": 1_700_000_000,
        "amount": 1_700_000_000,
        "status_transitions": {"paid_at": 86_400, "voided_at": None, "attempts": 3},
        "lines": {
            "data": [
                {"quantity": 2, "period": {"start": 0, "end": 60}},
                {"quantity": 1, "period": {"start": 3600, "end": None}},
            ],
            "has_more": False,
        },
        "metadata": {"created": "1700000000"},
        "no_times_here": {"count": 5},
    }
    converted = TimestampConverter.from_schema(SCHEMA).convert(record)
    assert converted is record
    assert record == {
        "id": "in_1",
        "created": "2023-11-14T22:13:20Z",
        "amount": 1_700_000_000,  # an int, but not a time: untouched
        "status_transitions": {"paid_at": "1970-01-02T00:00:00Z", "voided_at": None, "attempts": 3},
        "lines": {
            "data": [
                {"quantity": 2, "period": {"start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:01:00Z"}},
                {"quantity": 1, "period": {"start": "1970-01-01T01:00:00Z", "end": None}},
            ],
            "has_more": False,
        },
        "metadata": {"created": "1700000000"},
        "no_times_here": {"count": 5},
    }


def test_none_missing_and_non_int_values_pass_through() -> None:
    converter = TimestampConverter.from_schema(SCHEMA)
    record: dict[str, Any] = {
        "id": "x",
        "status_transitions": None,
        "lines": {"data": [None, "il_1", {"period": None}]},
    }
    before = copy.deepcopy(record)
    assert converter.convert(record) == before
    odd = {"created": True, "status_transitions": {"paid_at": 1.5, "voided_at": "2024-01-01T00:00:00Z"}}
    assert converter.convert(copy.deepcopy(odd)) == odd
    assert converter.convert({}) == {}


def test_converting_twice_is_harmless_and_out_of_range_values_are_kept() -> None:
    converter = TimestampConverter.from_schema(SCHEMA)
    record = converter.convert({"created": 1_700_000_000})
    assert converter.convert(record) == {"created": "2023-11-14T22:13:20Z"}
    assert converter.convert({"created": 10**30}) == {"created": 10**30}


def test_wide_records_and_wide_plans_give_the_same_result() -> None:
    wide_schema = {"type": "object", "properties": {f"t{i}": DATE_TIME for i in range(50)}}
    converter = TimestampConverter.from_schema(wide_schema)
    assert converter.convert({"t3": 0, "other": 1}) == {"t3": "1970-01-01T00:00:00Z", "other": 1}
    full = {f"t{i}": i for i in range(50)} | {f"x{i}": i for i in range(10)}
    converted = converter.convert(dict(full))
    assert converted["t49"] == "1970-01-01T00:00:49Z" and converted["x9"] == 9


def test_any_property_name_is_converted_by_the_compiled_plan() -> None:
    """The plan is compiled into Python source: names that are not identifiers, or hold quotes, stay literals."""
    odd = ["it's", 'say "hi"', "back\\slash", "new\nline", "obj.get", "é", ""]
    schema = {
        "type": "object",
        "properties": {
            **{name: DATE_TIME for name in odd},
            "nested": {"type": "array", "items": {"type": "object", "properties": {"a'": DATE_TIME}}},
        },
    }
    converter = TimestampConverter.from_schema(schema)
    record = {name: 60 for name in odd} | {"nested": [{"a'": 0}, "not an object", {"b": 1}], "other": 5}
    converted = converter.convert(record)
    assert all(converted[name] == "1970-01-01T00:01:00Z" for name in odd)
    assert converted["nested"] == [{"a'": "1970-01-01T00:00:00Z"}, "not an object", {"b": 1}]
    assert converted["other"] == 5


def test_finalize_record_uses_the_event_time_else_created() -> None:
    from_event = finalize_record(
        {"id": "cus_1", "created": 0}, account_id="acct_1", updated_epoch=1_700_000_000, is_deleted=True
    )
    assert from_event == {
        "id": "cus_1",
        "created": 0,
        "updated": "2023-11-14T22:13:20Z",
        "is_deleted": True,
        "account_id": "acct_1",
    }
    from_list = finalize_record(
        {"id": "ch_1", "created": "2023-11-14T22:13:20Z"},
        account_id="acct_emulator_platform",
        updated_epoch=None,
        is_deleted=False,
    )
    assert from_list["updated"] == "2023-11-14T22:13:20Z" and from_list["is_deleted"] is False
    product = finalize_record(
        {"id": "prod_1", "created": 0, "updated": 60}, account_id="a", updated_epoch=None, is_deleted=False
    )
    assert product["updated"] == "1970-01-01T00:01:00Z"  # Stripe's own `updated` beats `created`
    item = finalize_record(
        {"id": "ii_1", "date": 120}, account_id="a", updated_epoch=None, is_deleted=False, created_field="date"
    )
    assert item["updated"] == "1970-01-01T00:02:00Z"
    item = finalize_record({"id": "ii_1", "date": 180}, account_id="a", updated_epoch=None, is_deleted=False)
    assert item["updated"] == "1970-01-01T00:03:00Z"  # `date` is the fallback when there is no `created`
    line = finalize_record({"id": "il_1"}, account_id="a", updated_epoch=None, is_deleted=False)
    assert line["updated"] is None


def test_charge_sized_record_converts_fast() -> None:
    """A loose guard (the measured cost is a few microseconds); the real numbers are in the report."""
    converter = TimestampConverter.from_schema(load_schema("charges"))
    charge: dict[str, Any] = {
        "id": "ch_1",
        "object": "charge",
        "amount": 2000,
        "created": 1_700_000_000,
        "billing_details": {"address": {"city": "X", "country": "US"}, "email": "a@b.c"},
        "outcome": {"risk_level": "normal", "risk_score": 32, "type": "authorized"},
        "payment_method_details": {"card": {"brand": "visa", "capture_before": 1_700_600_000}, "type": "card"},
        "metadata": {"order": "1"},
        **{f"field_{i}": None for i in range(30)},
    }
    records = [copy.deepcopy(charge) for _ in range(2000)]
    batch = iter(records)
    seconds = timeit.timeit(lambda: converter.convert(next(batch)), number=len(records))
    assert records[0]["payment_method_details"]["card"]["capture_before"] == "2023-11-21T20:53:20Z"
    assert seconds / len(records) < 100e-6


def test_a_stream_compiles_its_timestamp_plan_at_its_first_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """--discover and the streams a run writes nothing of never compile theirs (0.1 s for the 52 streams)."""
    from tap_stripe_aep import record_conventions
    from tap_stripe_aep.tap import TapStripeAEP
    from tests.tap.tap_runner import FULL_KEY

    compiled: list[Any] = []
    compile_plan = record_conventions._compile
    monkeypatch.setattr(record_conventions, "_compile", lambda plan: compiled.append(plan) or compile_plan(plan))
    tap = TapStripeAEP(config={"api_key": FULL_KEY}, validate_config=False, setup_mapper=False)
    assert len(tap.catalog_dict["streams"]) == 52 and compiled == []
    charges = tap.streams["charges"]
    charges._account = "acct_1"
    first = charges.make_record({"id": "ch_1", "created": 86_400}, updated=None, is_deleted=False)
    second = charges.make_record({"id": "ch_2", "created": 0}, updated=None, is_deleted=False)
    assert (first["created"], second["created"]) == ("1970-01-02T00:00:00Z", "1970-01-01T00:00:00Z")
    assert len(compiled) == 1
