"""The catalog's metadata: the SDK's ``MetadataMapping``, cheaper where it goes through every breadcrumb.

The tap's 52 streams have 9,206 breadcrumbs (one a property, nested ones included), and the SDK goes through all
of them at start-up: ``--discover`` writes each entry (``Metadata.to_dict``, which asks ``dataclasses.fields``
for the fields and renames each, every time), a run parses them from the input catalog (``Metadata.from_dict``,
the same) and resolves the selection once per stream for the stream maps (``resolve_selection``, which resolves
every breadcrumb's parents again for each of its children: 40,000 calls). ``CatalogMetadata`` does each with
the fields listed once per class and each breadcrumb resolved once; the answers are the SDK's
(``tests/tap/test_catalog_schema.py`` compares them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from singer_sdk.singerlib import Metadata, MetadataMapping, SelectionMask, StreamMetadata
from singer_sdk.singerlib.catalog import Breadcrumb

# (attribute, key in the catalog's JSON) for each metadata class, in the SDK's order (its ``fields``)
_KEYS = {
    kind: tuple((field.name, field.name.replace("_", "-")) for field in dataclasses.fields(kind))
    for kind in (Metadata, StreamMetadata)
}


class CatalogMetadata(MetadataMapping):
    """``MetadataMapping`` with the same answers, each in one pass (see the module)."""

    @classmethod
    def from_iterable(cls, iterable: Iterable[dict[str, Any]]) -> CatalogMetadata:
        mapping = cls()
        for item in iterable:
            breadcrumb = tuple(item["breadcrumb"])
            metadata = item["metadata"]
            kind = Metadata if breadcrumb else StreamMetadata
            mapping[breadcrumb] = kind(**{name: metadata.get(key) for name, key in _KEYS[kind]})
        return mapping

    def to_list(self) -> list[dict[str, Any]]:
        return [{"breadcrumb": list(breadcrumb), "metadata": _as_dict(entry)} for breadcrumb, entry in self.items()]

    def resolve_selection(self) -> SelectionMask:
        resolved: dict[Breadcrumb, bool] = {}
        self._resolved = resolved  # the SDK's recursion into parents calls _breadcrumb_is_selected below
        try:
            return super().resolve_selection()
        finally:
            del self._resolved

    def _breadcrumb_is_selected(self, breadcrumb: Breadcrumb) -> bool:
        resolved = getattr(self, "_resolved", None)
        if resolved is None:
            return super()._breadcrumb_is_selected(breadcrumb)
        selected = resolved.get(breadcrumb)
        if selected is None:
            selected = resolved[breadcrumb] = super()._breadcrumb_is_selected(breadcrumb)
        return selected


def _as_dict(entry: Metadata) -> dict[str, Any]:
    """``entry.to_dict()``."""
    keys = _KEYS.get(type(entry))
    if keys is None:  # another class of metadata: the SDK's own
        return entry.to_dict()
    return {key: value for name, key in keys if (value := getattr(entry, name)) is not None}
