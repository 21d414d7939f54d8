"""`schema_copy`: the SDK's deep copies of a SCHEMA message's schema, made container by container."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from target_aep.schema_copy import JsonTreeSchema
from tests.target.write_singer_files import schema_message


def _containers(value: object) -> list[int]:
    if isinstance(value, dict):
        return [id(value), *(i for item in value.values() for i in _containers(item))]
    if isinstance(value, list):
        return [id(value), *(i for item in value for i in _containers(item))]
    return []


def test_a_copy_is_equal_and_shares_no_container() -> None:
    schema = JsonTreeSchema(json.loads(json.dumps(schema_message("charges")["schema"])))
    schema["x-odd"] = {"enum": [1, 2.5, True, None, "a", [{"nested": []}]], "default": Decimal("1.5")}
    copied = copy.deepcopy(schema)
    assert type(copied) is dict
    assert copied == copy.deepcopy(dict(schema))
    assert not set(_containers(copied)) & set(_containers(schema))
    copied["x-odd"]["enum"][5][0]["nested"].append(1)  # the SDK's sink edits its schema in place
    assert schema["x-odd"]["enum"][5][0]["nested"] == []


def test_a_plain_json_schema_is_copied_through_orjson_with_every_type_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = JsonTreeSchema(json.loads(json.dumps(schema_message("charges")["schema"])))
    schema["x-kinds"] = {"enum": [1, 1.0, -0.0, True, None, "é\u2028", 1e300, [{"nested": []}]]}
    monkeypatch.setattr("target_aep.schema_copy.json_tree_copy", lambda value: 1 / 0)  # the fast path only
    copied = copy.deepcopy(schema)
    assert type(copied) is dict and repr(copied) == repr(dict(schema))  # repr tells 1 from 1.0 and True
    assert not set(_containers(copied)) & set(_containers(schema))


def test_what_json_cannot_carry_as_it_is_is_copied_container_by_container() -> None:
    for odd in (float("nan"), float("inf"), 2**70, "\ud800"):
        schema = JsonTreeSchema({"type": "object", "x-odd": {"enum": [odd, 1]}})
        copied = copy.deepcopy(schema)
        assert repr(copied) == repr(dict(schema)) and copied["x-odd"] is not schema["x-odd"]
