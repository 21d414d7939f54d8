"""Fit a mapped value to its place in the schema, so the target never emits what Platform would reject.

Platform rejects unknown keys, wrong types, pattern and format mismatches and out-of-range numbers. The
mapper builds values from Stripe data it does not control (a customer's free-text state, a metadata value
that is a number, an amount beyond XDM `long`), so every value passes through `fit_value` first: unknown
keys and unfixable values are dropped and reported through `on_drop(xdm_path)`; harmless mismatches are
coerced (numbers and booleans into string fields, over-long strings truncated).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema_rs

from target_aep.xdm.schema_tree import SchemaNode

DROP: Any = object()  # a value that must not be written

DropHandler = Callable[[str], None]


@cache
def format_check(fmt: str) -> Callable[[str], bool]:
    """The string check for a JSON-schema `format`, from the same engine as `XdmValidator`'s hot path, so the
    mapper and the validator never disagree on what a `date-time`, `uri-reference` or `email` is."""
    validator = jsonschema_rs.Draft6Validator({"type": "string", "format": fmt}, validate_formats=True)
    return validator.is_valid


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def fit_value(value: Any, node: SchemaNode, path: str, on_drop: DropHandler) -> Any:
    """Return `value` shaped to `node`, or `DROP` (after calling `on_drop(path)`) when it cannot fit."""
    if value is None:
        return DROP
    kind = node.kind
    if kind == "object":
        if not isinstance(value, dict):
            on_drop(path)
            return DROP
        props = node.properties
        fitted: dict[str, Any] = {}
        for key, sub in value.items():
            if sub is None:
                continue
            child = props.get(key)
            if child is None:
                on_drop(f"{path}.{key}")
                continue
            if type(sub) is child.plain_type:  # hot path: an unconstrained leaf of the right type
                fitted[key] = sub
                continue
            result = fit_value(sub, child, f"{path}.{key}", on_drop)
            if result is not DROP:
                fitted[key] = result
        # `{"primary": true}` alone (an e-mail or phone whose value was dropped) says nothing: drop it too.
        if not fitted or fitted.keys() == {"primary"} or any(req not in fitted for req in node.required):
            if fitted:
                on_drop(path)
            return DROP
        return fitted
    if kind == "map":
        if not isinstance(value, dict):
            on_drop(path)
            return DROP
        values_node = node.values
        assert values_node is not None
        fitted = {}
        for key, sub in value.items():
            result = fit_value(sub, values_node, f"{path}.{key}", on_drop)
            if result is not DROP:
                fitted[str(key)] = result
        return fitted if fitted else DROP
    if kind == "array":
        if not isinstance(value, list):
            on_drop(path)
            return DROP
        item_node = node.values
        assert item_node is not None
        items = [fit_value(item, item_node, f"{path}[]", on_drop) for item in value]
        kept = [item for item in items if item is not DROP]
        return kept if kept else DROP
    return _fit_scalar(value, node, path, on_drop)


def _fit_scalar(value: Any, node: SchemaNode, path: str, on_drop: DropHandler) -> Any:
    kind = node.kind
    if kind == "string":
        if isinstance(value, (dict, list)) and not value:
            return DROP
        text = value if isinstance(value, str) else _as_string(value)
        if node.max_length is not None and len(text) > node.max_length:
            text = text[: node.max_length]
        if node.pattern is not None and node.pattern.search(text) is None:
            on_drop(path)
            return DROP
        if node.fmt is not None and not format_check(node.fmt)(text):
            on_drop(path)
            return DROP
        value = text
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            on_drop(path)
            return DROP
        if isinstance(value, float):
            if not value.is_integer():
                on_drop(path)
                return DROP
            value = int(value)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            on_drop(path)
            return DROP
    elif kind == "boolean" and not isinstance(value, bool):
        on_drop(path)
        return DROP
    if (node.minimum is not None and value < node.minimum) or (node.maximum is not None and value > node.maximum):
        on_drop(path)
        return DROP
    if node.enum is not None and value not in node.enum:
        on_drop(path)
        return DROP
    return value
