"""`XdmValidator`: is an XDM record valid for its dataset's schema, and if not, why.

The hot path is `jsonschema_rs` (Rust, draft 6, `date-time`/`uri-reference`/`email` formats checked);
records it rejects are re-checked with `jsonschema.Draft6Validator` only to produce messages a user can act
on (`commerce.order.currencyCode: 'usd' does not match '^[A-Z]{3}$'`). Validators are compiled once per
schema `$id` and cached.
"""

from __future__ import annotations

import json
import threading
from typing import Any, ClassVar

import jsonschema_rs
from jsonschema import Draft6Validator, FormatChecker


class XdmValidator:
    """Validates XDM records against one `xed-full` schema. Get one with `XdmValidator.for_schema`."""

    _cache: ClassVar[dict[str, XdmValidator]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.schema_id: str = schema.get("$id", "")
        self._fast = jsonschema_rs.Draft6Validator(schema, validate_formats=True)
        self._explainer: Draft6Validator | None = None  # built on the first invalid record
        # Whether a record valid here may hold a number with a fraction: if not, its line is encoded without the
        # look for what orjson writes unlike json (`json_lines.encode_fractionless_line`).
        self.admits_fractions = admits_fractions(schema)

    @classmethod
    def for_schema(cls, schema: dict[str, Any]) -> XdmValidator:
        """The validator for `schema`, compiled once and cached by `$id` (by content when it has none)."""
        key = schema.get("$id") or json.dumps(schema, sort_keys=True)
        with cls._lock:
            validator = cls._cache.get(key)
            # Same $id, different content (an edited copy): recompile rather than validate against the old one.
            if validator is None or (validator.schema is not schema and validator.schema != schema):
                validator = cls._cache[key] = cls(schema)
        return validator

    def is_valid(self, xdm: dict[str, Any]) -> bool:
        return bool(self._fast.is_valid(xdm))

    def errors(self, xdm: dict[str, Any]) -> list[str]:
        """`[]` when `xdm` is valid; otherwise readable `path: message` strings, sorted by path."""
        if self._fast.is_valid(xdm):
            return []
        if self._explainer is None:
            self._explainer = Draft6Validator(self.schema, format_checker=FormatChecker())
        found = sorted(self._explainer.iter_errors(xdm), key=lambda e: [str(p) for p in e.absolute_path])
        messages = [f"{_path(e.absolute_path)}: {e.message}" for e in found]
        if not messages:  # the two validators disagree (a format only one checks): keep the fast one's word
            messages = [f"{_path(e.instance_path)}: {e.message}" for e in self._fast.iter_errors(xdm)]
        return messages


_TYPES_WITHOUT_FRACTIONS = frozenset({"string", "integer", "boolean", "null", "object", "array"})


def admits_fractions(node: Any) -> bool:
    """Whether a value valid against the schema ``node`` may hold a number with a fraction, a NaN or an infinity
    anywhere in it: True unless every value the schema lets through is known, whatever other keywords add.

    Every keyword of a node constrains its value together (``anyOf`` and the like only narrow it), so a node
    whose ``type`` excludes ``number`` admits no fraction itself; what it holds is each property's schema, each
    ``patternProperties`` one and ``additionalProperties`` (absent: anything), and an array's ``items`` (absent:
    anything; a list of them: ``additionalItems`` too). A node without a ``type``, or reached only through a
    ``$ref``, may be anything.
    """
    if node is False:
        return False  # admits no value at all
    if not isinstance(node, dict) or "$ref" in node:
        return True
    kinds = node.get("type")
    if isinstance(kinds, str):
        kinds = [kinds]
    if not isinstance(kinds, list) or not kinds or not all(kind in _TYPES_WITHOUT_FRACTIONS for kind in kinds):
        return True
    if "object" in kinds:
        properties = node.get("properties", {})
        patterns = node.get("patternProperties", {})
        if not isinstance(properties, dict) or not isinstance(patterns, dict):
            return True
        children = [*properties.values(), *patterns.values(), node.get("additionalProperties", True)]
        if any(admits_fractions(child) for child in children):
            return True
    if "array" in kinds:
        items = node.get("items", True)
        children = [*items, node.get("additionalItems", True)] if isinstance(items, list) else [items]
        if any(admits_fractions(child) for child in children):
            return True
    return False


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(record)"
