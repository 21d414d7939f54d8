"""Validating XDM records as Platform does: a compiled fast path, and readable reasons for the rows that fail.

``jsonschema_rs`` (Rust, draft-06, formats on) decides valid or not for every row; only rows it rejects go
through ``jsonschema.Draft6Validator`` with a ``FormatChecker`` to say why. Reasons are worded like Platform's
(its validator is everit-json-schema): ``#/path: extraneous key [x] is not permitted``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft6Validator, FormatChecker
from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "object": "JSONObject",
    "array": "JSONArray",
    "null": "Null",
}
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


@dataclass(frozen=True)
class Violation:
    """One reason a record was rejected: where, which schema keyword, and a message a person can act on."""

    pointer: str  # JSON pointer into the record, "#" for the root
    keyword: str
    message: str  # includes the pointer, as Platform's messages do

    def as_streaming_cause(self) -> dict[str, Any]:
        """The shape Platform uses under ``report.cause._streamingValidation`` (assumed in detail)."""
        return {
            "schemaLocation": "#",
            "pointerToViolation": self.pointer,
            "causingExceptions": [],
            "keyword": self.keyword,
            "message": self.message,
        }


class RecordValidator:
    """One schema compiled once; thread-safe to share between request threads."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        self._fast = jsonschema_rs.Draft6Validator(schema, validate_formats=True)
        self._explainer: Draft6Validator | None = None
        self._lock = threading.Lock()

    def is_valid(self, record: Any) -> bool:
        """True when the record conforms to the schema (the hot path)."""
        return bool(self._fast.is_valid(record))

    def violations(self, record: Any) -> list[Violation]:
        """Every reason the record is invalid, sorted by where it is; empty if it is valid."""
        if self.is_valid(record):
            return []
        found = [v for error in self._reference().iter_errors(record) for v in _describe(error)]
        if not found:
            # The two validators disagree only on rare format edge cases; never reject silently.
            found = [Violation("#", "schema", "#: the record does not conform to the dataset's schema")]
        return sorted(found, key=lambda v: v.pointer)

    def _reference(self) -> Draft6Validator:
        with self._lock:
            if self._explainer is None:
                self._explainer = Draft6Validator(self._schema, format_checker=FormatChecker())
            return self._explainer


def describe_violations(violations: list[Violation]) -> str:
    """All reasons on one line, for batch error descriptions and streaming messages."""
    return "; ".join(v.message for v in violations)


def _pointer(error: ValidationError) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path]
    return "#/" + "/".join(parts) if parts else "#"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "BigDecimal"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "JSONObject"
    if isinstance(value, list):
        return "JSONArray"
    return "Null"


def _describe(error: ValidationError) -> list[Violation]:
    at = _pointer(error)
    keyword = str(error.validator)
    value = error.instance
    expected = error.validator_value
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = error.schema.get("properties", {})
        extra = [key for key in value if key not in allowed]
        return [Violation(at, keyword, f"{at}: extraneous key [{key}] is not permitted") for key in extra]
    if keyword == "required":
        missing = _QUOTED.findall(error.message)[:1] or [error.message]
        return [Violation(at, keyword, f"{at}: required key [{missing[0]}] not found")]
    if keyword == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in wanted)
        text = f"expected type: {names}, found: {_json_type(value)}"
    elif keyword == "pattern":
        text = f"string [{value}] does not match pattern {expected}"
    elif keyword == "format":
        text = f"[{value}] is not a valid {expected}"
    elif keyword == "enum":
        text = f"{value} is not a valid enum value (allowed: {', '.join(map(str, expected))})"
    elif keyword == "minimum":
        text = f"{value} is not greater or equal to {expected}"
    elif keyword == "maximum":
        text = f"{value} is not less or equal to {expected}"
    elif keyword == "minLength":
        text = f"expected minLength: {expected}, actual: {len(value)}"
    elif keyword == "maxLength":
        text = f"expected maxLength: {expected}, actual: {len(value)}"
    else:
        text = error.message
    return [Violation(at, keyword, f"{at}: {text}")]
