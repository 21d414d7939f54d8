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


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(record)"
