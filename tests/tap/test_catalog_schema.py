"""`catalog_schema`: the catalog's schemas kept as dicts give what the SDK's `Schema` nodes give, without them."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from typing import Any

import pytest
from singer_sdk.singerlib import Catalog, Schema

from tap_stripe_aep import catalog_schema
from tap_stripe_aep.catalog_schema import CatalogSchema, SchemaDict, catalog_from_dict, sdk_schema_dict
from tap_stripe_aep.streams.base import StripeStream
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import FULL_KEY, catalog_selecting

# What the SDK's round trip drops or keeps: unknown keys and `$comment` dropped, `None` values dropped, the
# standard keys reordered, `items` and nested `properties` rebuilt, `anyOf` and `$id` kept as they are.
ODD_SCHEMA: dict[str, Any] = {
    "$comment": "dropped",
    "type": ["object", "null"],
    "title": "t",
    "x-unknown": 1,
    "required": ["a"],
    "$id": "urn:x",
    "properties": {
        "a": {"format": "date-time", "type": "string", "description": None},
        "b": {"items": {"properties": {"c": {"type": "integer", "maximum": 5}}, "type": "object"}, "type": "array"},
        "d": {"anyOf": [{"type": "string"}, {"type": "null", "properties": {"z": {}}}], "x-sql-datatype": "json"},
        "e": {},
    },
    "additionalProperties": False,
}


def _text(value: Any) -> str:
    return json.dumps(value)  # key order included


def _tap(**kwargs: Any) -> TapStripeAEP:
    return TapStripeAEP(config={"api_key": FULL_KEY}, validate_config=False, **kwargs)


@pytest.fixture(scope="module")
def discovered() -> dict[str, Any]:
    return catalog_selecting(None)


def test_the_dict_is_the_sdks_round_trip_for_every_stream_schema_and_odd_ones() -> None:
    tap = _tap(setup_mapper=False)
    for schema in [ODD_SCHEMA, *(stream.schema for stream in tap.streams.values())]:
        assert _text(sdk_schema_dict(schema)) == _text(Schema.from_dict(schema).to_dict())
    assert "$comment" not in sdk_schema_dict(ODD_SCHEMA) and "$id" in sdk_schema_dict(ODD_SCHEMA)


def test_discovery_writes_the_sdks_catalog_entries() -> None:
    for stream in _tap(setup_mapper=False).streams.values():
        sdk_entry = super(StripeStream, stream)._singer_catalog_entry  # the SDK's: a Schema node per node
        assert _text(stream._singer_catalog_entry.to_dict()) == _text(sdk_entry.to_dict())


def test_an_input_catalog_parses_as_the_sdks_with_a_property_deselected(discovered: dict[str, Any]) -> None:
    discovered = copy.deepcopy(discovered)
    charges = next(entry for entry in discovered["streams"] if entry["tap_stream_id"] == "charges")
    charges["schema"]["properties"]["amount"]["x-unknown"] = 1
    for metadata in charges["metadata"]:
        if metadata["breadcrumb"] in (["properties", "amount"], ["properties", "outcome"]):
            metadata["metadata"]["selected"] = False
        if metadata["breadcrumb"] == ["properties", "outcome", "properties", "type"]:
            metadata["metadata"]["selected"] = True  # under a deselected parent: still deselected
        if metadata["breadcrumb"] == ["properties", "currency"]:
            metadata["metadata"].update(inclusion="unsupported", selected=True)
    ours, sdks = catalog_from_dict(discovered), Catalog.from_dict(discovered)
    assert _text(ours.to_dict()) == _text(sdks.to_dict())
    for name, entry in sdks.items():
        assert ours[name].metadata.resolve_selection() == entry.metadata.resolve_selection()
    mask = ours["charges"].metadata.resolve_selection()
    assert not any(mask[("properties", p)] for p in ("amount", "outcome", "currency"))
    assert not mask[("properties", "outcome", "properties", "type")] and mask[("properties", "id")]
    tap = _tap(catalog=discovered)  # the stream maps and the streams take the same schemas as from the SDK's
    reference = _tap(catalog=sdks)
    for name, stream in tap.streams.items():
        assert _text(stream.schema) == _text(reference.streams[name].schema)
        ours_map, sdk_map = tap.mapper.stream_maps[name][0], reference.mapper.stream_maps[name][0]
        assert _text(ours_map.transformed_schema) == _text(sdk_map.transformed_schema)
    assert not {"amount", "outcome"} & set(tap.mapper.stream_maps["charges"][0].transformed_schema["properties"])


def test_a_field_read_or_set_builds_the_sdks_nodes() -> None:
    schema = CatalogSchema(ODD_SCHEMA)
    assert schema.properties["b"].items.properties["c"].maximum == 5  # type: ignore[index, union-attr]
    reference = Schema.from_dict(ODD_SCHEMA)
    assert all(getattr(schema, f.name) == getattr(reference, f.name) for f in dataclasses.fields(Schema))
    changed = CatalogSchema(ODD_SCHEMA)
    changed.title = "changed"
    assert changed.to_dict()["title"] == "changed" and changed.to_dict()["type"] == ["object", "null"]
    with pytest.raises(AttributeError):
        _ = schema.not_a_field  # type: ignore[attr-defined]


def test_a_tap_with_an_input_catalog_builds_no_schema_node_and_deep_copies_through_orjson(
    discovered: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []
    monkeypatch.setattr(Schema, "from_dict", classmethod(lambda cls, data, **kw: built.append(data)))
    generic = copy.deepcopy
    deep_copies: list[Any] = []
    monkeypatch.setattr(copy, "deepcopy", lambda x, memo=None: deep_copies.append(type(x)) or generic(x, memo))
    tap = _tap(catalog=discovered)
    assert len(tap.streams) == 52 and tap.catalog_dict["streams"]
    assert [schema for schema in built if schema] == []  # catalog_from_dict parses each entry with schema {}
    assert deep_copies and set(deep_copies) == {SchemaDict}  # each one caught by SchemaDict.__deepcopy__


def test_a_schema_dicts_copy_is_equal_independent_and_copies_cheaply_again() -> None:
    schema = sdk_schema_dict(ODD_SCHEMA)
    copied = copy.deepcopy(schema)
    assert copied == schema and type(copied) is SchemaDict
    copied["properties"]["b"]["items"]["type"] = "changed"
    assert schema["properties"]["b"]["items"]["type"] == "object"
    odd = SchemaDict({"default": math.nan, "big": 2**70, "l": [1]})  # what orjson cannot carry as it is
    copied = copy.deepcopy(odd)
    assert math.isnan(copied["default"]) and copied["big"] == 2**70 and copied["l"] is not odd["l"]


def test_the_module_says_what_it_is() -> None:
    assert "Schema.from_dict" in (catalog_schema.__doc__ or "")
