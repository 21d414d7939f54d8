"""Test control: rows Platform refuses although they are valid against the dataset's schema.

The target validates every record before it sends it, so in a test AEP refuses a row only if told to. Real AEP
does refuse rows the schema alone would take (a rule the target does not know, a schema edited in the UI while a
run goes on); ``POST /_emulator/row_refusals`` stands in for that, without bending the Schema Registry (which
refuses to restrict a field in use, as Platform does):

    {"rules": [{"dataset_id": "6650...", "pointer": "/_acme/stripe/amount", "exceeds": 1099,
                "code": "1402", "message": "#/_acme/stripe/amount: {value} is not less or equal to 1099"}]}

A rule names a dataset, a JSON pointer into the row and one condition: ``exceeds`` (a number greater than it),
``equals`` (any JSON value) or ``matches`` (a regular expression a string value matches). A batch row of that
dataset that meets it fails like a validation failure: the same ``errors`` summary and Data Access row error files,
with the rule's ``code`` (``1402`` by default, or ``1555``) and ``message`` (``{value}`` is replaced by the row's
value). The body replaces every rule; ``{"rules": []}`` clears them. Streaming ingestion does not apply them.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

_CONDITIONS = ("exceeds", "equals", "matches")
_CODES = ("1402", "1555")  # validation failures, as Platform reports them per row
_RULE_KEYS = {"dataset_id", "pointer", "code", "message", *_CONDITIONS}
_MISSING = object()


@dataclass(frozen=True)
class RowRefusal:
    dataset_id: str
    pointer: str
    condition: str
    operand: Any
    code: str
    message: str

    def verdict(self, row: Any) -> tuple[str, str] | None:
        """``(code, message)`` when the row meets this rule, else None."""
        value = _at_pointer(row, self.pointer)
        if value is _MISSING:
            return None
        if self.condition == "exceeds":
            met = isinstance(value, int | float) and not isinstance(value, bool) and value > self.operand
        elif self.condition == "equals":
            met = value == self.operand and type(value) is type(self.operand)
        else:
            met = isinstance(value, str) and re.search(self.operand, value) is not None
        if not met:
            return None
        shown = value if isinstance(value, str) else json.dumps(value)
        return self.code, self.message.replace("{value}", shown)

    def describe(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "pointer": self.pointer,
            self.condition: self.operand,
            "code": self.code,
            "message": self.message,
        }


def parse_rule(body: Any) -> RowRefusal:
    """One rule of the ``rules`` list; raises ``ValueError`` saying what is wrong with it."""
    if not isinstance(body, dict):
        raise ValueError("each rule must be a JSON object")
    unknown = sorted(set(body) - _RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown rule keys {unknown}; known: {sorted(_RULE_KEYS)}")
    dataset_id, pointer = body.get("dataset_id"), body.get("pointer")
    if not isinstance(dataset_id, str) or not dataset_id:
        raise ValueError("dataset_id must be a dataset id")
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise ValueError("pointer must be a JSON pointer such as /_acme/stripe/amount")
    conditions = [name for name in _CONDITIONS if name in body]
    if len(conditions) != 1:
        raise ValueError(f"a rule needs exactly one of {list(_CONDITIONS)}")
    condition, operand = conditions[0], body[conditions[0]]
    if condition == "exceeds" and (isinstance(operand, bool) or not isinstance(operand, int | float)):
        raise ValueError("exceeds must be a number")
    if condition == "matches":
        if not isinstance(operand, str):
            raise ValueError("matches must be a regular expression")
        try:
            re.compile(operand)
        except re.error as error:
            raise ValueError(f"matches is not a regular expression: {error}") from None
    code = body.get("code", "1402")
    if code not in _CODES:
        raise ValueError(f"code must be one of {list(_CODES)}")
    message = body.get("message", f"#{pointer}: {{value}} is refused by Platform")
    if not isinstance(message, str) or not message:
        raise ValueError("message must be a non-empty string")
    return RowRefusal(dataset_id, pointer, condition, operand, code, message)


class RowRefusals:
    """The rules in force; thread-safe (batches are processed on worker threads)."""

    def __init__(self) -> None:
        self._rules: tuple[RowRefusal, ...] = ()
        self._lock = threading.Lock()

    def replace(self, body: Any) -> None:
        """Apply a ``POST /_emulator/row_refusals`` body; raises ``ValueError`` and keeps the old rules if bad."""
        rules = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(rules, list) or set(body) != {"rules"}:
            raise ValueError('the body must be {"rules": [...]}')
        parsed = tuple(parse_rule(rule) for rule in rules)
        with self._lock:
            self._rules = parsed

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def for_dataset(self, dataset_id: str) -> tuple[RowRefusal, ...]:
        """The rules a batch of ``dataset_id`` applies (read once per batch)."""
        with self._lock:
            return tuple(rule for rule in self._rules if rule.dataset_id == dataset_id)


def _at_pointer(document: Any, pointer: str) -> Any:
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return _MISSING
    return value
