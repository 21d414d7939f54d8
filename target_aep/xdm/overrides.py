"""The `mappings` setting: a declarative way to change a stream's mapping without Python.

    {"charges": {
        "event_type": "commerce.purchases",              # or {"succeeded": "...", "failed": "...", "*": "..."}
        "fields": {
            "commerce.order.purchaseOrderNumber": "metadata.order_no",
            "_acme.stripe.amount": {"source": "amount_captured"},
            "commerce.order.taxAmount": {"source": "amount_details.tax", "transform": "minor_to_major"},
            "commerce.order.orderType": {"value": "checkout"},
            "_acme.stripe.name": "statement_descriptor | upper"
        },
        "exclude": ["productListItems", "_acme.stripe.metadata"]}}

Keys of `fields` are dotted XDM paths (checked against the dataset's schema when the target starts); values
are dotted Stripe paths, optionally `| transform`. Errors name the exact setting: `mappings.charges.fields.x`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from target_aep.xdm.currency import currency_code, minor_to_major
from target_aep.xdm.rules import FieldRule
from target_aep.xdm.schema_tree import SchemaTree
from target_aep.xdm.stripe_fields import get_path


class MappingConfigError(ValueError):
    """The `mappings` setting is wrong; the message names the setting path (`mappings.charges.fields.x`)."""


def _to_integer(value: Any, record: dict[str, Any]) -> Any:
    return int(value) if isinstance(value, (int, float, str)) and str(value).lstrip("-").isdigit() else None


def _to_number(value: Any, record: dict[str, Any]) -> Any:
    try:
        return float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _to_boolean(value: Any, record: dict[str, Any]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _to_string(value: Any, record: dict[str, Any]) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


Transform = Callable[[Any, dict[str, Any]], Any]

TRANSFORMS: dict[str, Transform] = {
    # amounts in the record's own `currency`, with that currency's exponent (JPY 1, USD 100, KWD 1000)
    "minor_to_major": lambda v, r: minor_to_major(v, r.get("currency")) if isinstance(v, int) else None,
    "currency_code": lambda v, r: currency_code(v),
    "upper": lambda v, r: v.upper() if isinstance(v, str) else v,
    "lower": lambda v, r: v.lower() if isinstance(v, str) else v,
    "string": _to_string,
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
}

_OVERRIDE_KEYS = ("event_type", "fields", "exclude")


@dataclass
class StreamOverride:
    """One stream's parsed `mappings` entry."""

    event_type: dict[str, str] = field(default_factory=dict)  # state -> eventType; "*" for all others
    rules: list[FieldRule] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


def _source_rule(setting: str, target: str, spec: Any) -> FieldRule:
    if isinstance(spec, str):
        path, _, transform_name = (part.strip() for part in spec.partition("|"))
        spec = {"source": path, **({"transform": transform_name} if transform_name else {})}
    if not isinstance(spec, dict):
        raise MappingConfigError(
            f"{setting}: expected a Stripe path string or an object with 'source' or 'value', got {spec!r}"
        )
    unknown = set(spec) - {"source", "transform", "value"}
    if unknown:
        raise MappingConfigError(f"{setting}: unknown key(s) {sorted(unknown)}; use source, transform or value")
    if "value" in spec:
        if "source" in spec:
            raise MappingConfigError(f"{setting}: give either 'source' or 'value', not both")
        constant = spec["value"]
        return FieldRule(target, lambda _r, _u: constant, ())
    source_value = spec.get("source")
    if not isinstance(source_value, str) or not source_value:
        raise MappingConfigError(f"{setting}.source: expected a dotted Stripe field path such as 'metadata.order_no'")
    source: str = source_value
    transform: Transform | None = None
    if "transform" in spec:
        transform = TRANSFORMS.get(spec["transform"])
        if transform is None:
            raise MappingConfigError(
                f"{setting}.transform: unknown transform {spec['transform']!r}; known: {', '.join(sorted(TRANSFORMS))}"
            )

    def produce(record: dict[str, Any], _repairs: Any) -> Any:
        value = get_path(record, source)
        return transform(value, record) if transform is not None and value is not None else value

    return FieldRule(target, produce, (source,))


def parse_override(stream_name: str, entry: Any, tree: SchemaTree) -> StreamOverride:
    """Check one stream's `mappings` entry against the dataset's schema and compile it."""
    base = f"mappings.{stream_name}"
    if not isinstance(entry, dict):
        raise MappingConfigError(f"{base}: expected an object with {', '.join(_OVERRIDE_KEYS)}")
    unknown = set(entry) - set(_OVERRIDE_KEYS)
    if unknown:
        raise MappingConfigError(f"{base}: unknown key(s) {sorted(unknown)}; expected {', '.join(_OVERRIDE_KEYS)}")
    override = StreamOverride()

    if "event_type" in entry:
        setting = f"{base}.event_type"
        if tree.xdm_class != "experienceevent":
            raise MappingConfigError(f"{setting}: the dataset's schema is a {tree.xdm_class}, not an ExperienceEvent")
        chosen = entry["event_type"]
        if isinstance(chosen, str):
            chosen = {"*": chosen}
        if not isinstance(chosen, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in chosen.items()
        ):
            raise MappingConfigError(f"{setting}: expected an eventType string or an object of status -> eventType")
        override.event_type = dict(chosen)

    fields = entry.get("fields", {})
    if not isinstance(fields, dict):
        raise MappingConfigError(f"{base}.fields: expected an object of XDM path -> Stripe path")
    for target, spec in fields.items():
        setting = f"{base}.fields.{target}"
        node = tree.node_at(target) if isinstance(target, str) and target else None
        if node is None:
            raise MappingConfigError(f"{setting}: no field {target!r} in schema {tree.schema_id or '(no $id)'}")
        if node.kind in ("object", "array"):
            raise MappingConfigError(f"{setting}: {target!r} is an {node.kind} in the schema; map its leaf fields")
        override.rules.append(_source_rule(setting, target, spec))

    exclude = entry.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
        raise MappingConfigError(f"{base}.exclude: expected a list of XDM paths")
    required = set(tree.schema.get("required", ()))
    for index, target in enumerate(exclude):
        setting = f"{base}.exclude[{index}]"
        if tree.node_at(target) is None:
            raise MappingConfigError(f"{setting}: no field {target!r} in schema {tree.schema_id or '(no $id)'}")
        if target in required:
            raise MappingConfigError(f"{setting}: {target!r} is required by the schema and cannot be excluded")
        override.exclude.append(target)
    return override
