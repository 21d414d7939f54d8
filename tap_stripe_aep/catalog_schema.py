"""The catalog's stream schemas, kept as the JSON Schema dicts they are until something needs the SDK's objects.

The Singer SDK holds each catalog entry's schema as a ``singerlib.Schema``, a dataclass node for every node of the
schema, and turns it back into a dict wherever it is used: ``--discover`` builds the entries from the streams'
schemas and writes them out (``Schema.from_dict`` then ``to_dict``); a run parses the input catalog
(``Catalog.from_dict``) and then takes each schema back as a dict twice (``Stream.apply_catalog`` and the stream
maps, ``PluginMapper.register_raw_streams_from_catalog``). The tap's 52 Stripe schemas have 11,575 nodes, and each
node built or written costs a dataclass of 29 fields, each looked up by name (``key.replace("-", "_")`` for each):
0.1-0.2 s of CPU a run, before the first request.

Nothing of the SDK that a tap runs reads an entry's schema other than through ``to_dict`` (measured on 0.54: the
two uses above and ``CatalogEntry.to_dict``). ``CatalogSchema`` is a ``Schema`` that keeps the dict and answers
``to_dict`` with :func:`sdk_schema_dict`, the dict the SDK's round trip gives, made in one pass without the nodes;
reading or setting any of its fields first builds the SDK's nodes (``Schema.from_dict``), and from then on it is
the SDK's ``Schema``. ``tests/tap/test_catalog_schema.py`` checks both give the same dicts, key order included.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson
from singer_sdk.singerlib import Catalog, CatalogEntry, Schema
from singer_sdk.singerlib.schema import META_KEYS, STANDARD_KEYS

from tap_stripe_aep.catalog_metadata import CatalogMetadata

_FIELDS = frozenset(field.name for field in dataclasses.fields(Schema))
_META_KEYS = tuple(f"${key}" for key in META_KEYS)


class SchemaDict(dict):
    """A schema dict whose ``copy.deepcopy`` is an ``orjson`` round trip, itself a ``SchemaDict``.

    The SDK deep-copies each selected schema twice more before the first request (``get_selected_schema`` and
    ``StreamMap.raw_schema``): ``copy.deepcopy``'s memo of every object, for shared and cyclic references a JSON
    tree does not have, makes that 0.1 s for the 52 schemas; ``orjson`` in C a quarter of it. Kept only when the
    copy equals the original (what JSON cannot carry, NaN or an integer beyond 64 bits, fails that or raises, and
    is copied by ``copy.deepcopy`` as before). The same as ``target_aep.schema_copy.JsonTreeSchema``, whose copy
    is a plain dict: here the copy must copy cheaply in turn (the selected schema is copied again).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        try:
            copied = orjson.loads(orjson.dumps(self))
        except (TypeError, ValueError):  # orjson.JSONEncodeError, JSONDecodeError: not plain JSON values
            copied = None
        if type(copied) is dict and copied == self:
            return SchemaDict(copied)
        return SchemaDict({key: copy.deepcopy(value, memo) for key, value in self.items()})


def sdk_schema_dict(data: Mapping[str, Any]) -> SchemaDict:
    """``Schema.from_dict(data).to_dict()``: the same keys in the same order, values shared with ``data`` as
    there (only ``properties`` and ``items`` are rebuilt); any other key is left out, as is a ``None`` value."""
    return SchemaDict(_sdk_node(data))


def _sdk_node(data: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    properties = data.get("properties")
    if properties is not None:
        result["properties"] = {name: _sdk_node(node) for name, node in properties.items()}
    items = data.get("items")
    if items is not None:
        result["items"] = _sdk_node(items)
    for key in STANDARD_KEYS:
        if key in data and (value := data[key]) is not None:
            result[key] = value
    for key in _META_KEYS:
        if key in data and (value := data[key]) is not None:
            result[key] = value
    return result


class CatalogSchema(Schema):
    """A ``Schema`` holding its JSON Schema dict; its nodes are built on first use of a field (see the module)."""

    __slots__ = ("_built", "_data")

    def __init__(self, data: Mapping[str, Any]) -> None:  # the SDK's fields stay unset until _build
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_built", False)

    def _build(self) -> None:
        object.__setattr__(self, "_built", True)
        built = Schema.from_dict(dict(self._data))
        for name in _FIELDS:
            object.__setattr__(self, name, getattr(built, name))

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: here, a field of the SDK's never set because not yet built.
        if name in _FIELDS and not self._built:
            self._build()
            return getattr(self, name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FIELDS and not self._built:
            self._build()
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return SchemaDict(Schema.to_dict(self)) if self._built else sdk_schema_dict(self._data)


def catalog_from_dict(data: Mapping[str, Any]) -> Catalog:
    """``Catalog.from_dict``, each entry's schema a :class:`CatalogSchema` and its metadata a ``CatalogMetadata``."""
    catalog = Catalog()
    for stream in data.get("streams", []):
        entry = CatalogEntry.from_dict({**stream, "schema": {}, "metadata": []})
        entry.schema = CatalogSchema(stream.get("schema", {}))
        entry.metadata = CatalogMetadata.from_iterable(stream.get("metadata", []))
        catalog[entry.tap_stream_id] = entry
    return catalog
