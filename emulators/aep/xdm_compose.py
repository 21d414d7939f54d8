"""Composing XDM resources as the Schema Registry does: a resource's own fields, checked and closed, and a schema
resolved into the one JSON Schema (``xed-full``) that ingestion validates against.

A schema is its class plus its field groups. Resolution walks them in ``meta:extends`` order (the class, what the
class extends, then each field group after what it extends), merges their fields, closes every object
(``additionalProperties: false``, maps excepted) and gives each field its ``meta:xdmType``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulators.aep.xdm_library import DRAFT_06

Lookup = Callable[[str], dict[str, Any] | None]  # resource $id -> its xed body, or None

_INT_RANGES = (  # (XDM type, bound) from the narrowest: Platform infers the XDM type from the bounds
    ("byte", 127),
    ("short", 32767),
    ("int", 2147483647),
    ("long", 9007199254740991),
)
_JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array"}


class CompositionError(ValueError):
    """A resource that cannot be composed; ``code`` and ``title`` are the registry's error for it."""

    def __init__(self, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.title = title
        self.detail = detail


def own_fields(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields a resource defines itself (its ``#/definitions/...`` in ``allOf``), and their ``required``."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    definitions = body.get("definitions") or {}
    for entry in body.get("allOf") or []:
        ref = entry.get("$ref", "") if isinstance(entry, dict) else ""
        if not ref.startswith("#/definitions/"):
            continue
        definition = definitions.get(ref.removeprefix("#/definitions/"))
        if not isinstance(definition, dict):
            raise CompositionError("1001", "Invalid resource", f"allOf refers to a missing definition: {ref}")
        merge_fields(properties, definition.get("properties") or {}, "")
        required += [name for name in definition.get("required") or [] if name not in required]
    return properties, required


def external_refs(body: dict[str, Any]) -> list[str]:
    """The ``$id``s a resource's ``allOf`` refers to (not its own definitions)."""
    refs = []
    for entry in body.get("allOf") or []:
        ref = entry.get("$ref") if isinstance(entry, dict) else None
        if isinstance(ref, str) and not ref.startswith("#"):
            refs.append(ref)
    return refs


def check_tenant_fields(properties: dict[str, Any], tenant: str) -> dict[str, Any]:
    """Custom fields must sit under ``_{tenant}`` and be valid XDM; returns them closed and typed."""
    namespace = f"_{tenant}"
    for name in properties:
        if name != namespace:
            raise CompositionError(
                "1021",
                "Namespace validation error",
                f"A custom field is defined under an invalid namespace ('{name}'). All custom fields must be "
                f"defined under a top-level field named {namespace}.",
            )
    return {name: normalize_field(field, f"/{name}") for name, field in properties.items()}


def normalize_field(field: Any, path: str) -> dict[str, Any]:
    """One field as the registry stores it: a known JSON type, objects closed, ``meta:xdmType`` set."""
    if not isinstance(field, dict):
        raise CompositionError("1001", "Invalid field", f"{path}: a field must be a JSON object")
    if "$ref" in field:
        raise CompositionError("1001", "Invalid field", f"{path}: data type references are not supported here")
    out = copy.deepcopy(field)
    kind = out.get("type")
    if kind not in _JSON_TYPES:
        raise CompositionError("1001", "Invalid field", f"{path}: 'type' must be one of {sorted(_JSON_TYPES)}")
    if kind == "object":
        children = out.get("properties")
        values = out.get("additionalProperties")
        if isinstance(values, dict):  # a map
            if children:
                raise CompositionError("1001", "Invalid field", f"{path}: a map cannot also have properties")
            out["additionalProperties"] = normalize_field(values, f"{path}/*")
            out.setdefault("meta:xdmType", "map")
        else:
            if not isinstance(children, dict) or not children:
                raise CompositionError("1001", "Invalid field", f"{path}: an object needs 'properties'")
            out["properties"] = {k: normalize_field(v, f"{path}/{k}") for k, v in children.items()}
            out["additionalProperties"] = False
            out.setdefault("meta:xdmType", "object")
    elif kind == "array":
        if not isinstance(out.get("items"), dict):
            raise CompositionError("1001", "Invalid field", f"{path}: an array needs 'items'")
        out["items"] = normalize_field(out["items"], f"{path}/items")
        out.setdefault("meta:xdmType", "array")
    elif kind == "integer":
        out.setdefault("meta:xdmType", _integer_type(out))
        if "minimum" not in out and "maximum" not in out:  # Platform stores an unbounded integer as int
            out["minimum"], out["maximum"] = -2147483648, 2147483647
    elif kind == "string":
        out.setdefault("meta:xdmType", {"date-time": "date-time", "date": "date"}.get(out.get("format", ""), "string"))
    else:
        out.setdefault("meta:xdmType", kind)
    return out


def _integer_type(field: dict[str, Any]) -> str:
    bound = max(abs(int(field.get("minimum", 0))), abs(int(field.get("maximum", 0))))
    if "minimum" not in field and "maximum" not in field:
        return "int"
    for name, limit in _INT_RANGES:
        if bound <= limit + 1:
            return name
    return "long"


def merge_fields(into: dict[str, Any], fields: dict[str, Any], at: str) -> None:
    """Merge field definitions; the same object from two parts is merged, incompatible types are refused."""
    for name, field in fields.items():
        path = f"{at}/{name}"
        if name not in into:
            into[name] = copy.deepcopy(field)
            continue
        mine = into[name]
        if mine == field:
            continue
        both_objects = mine.get("type") == field.get("type") == "object"
        if both_objects and isinstance(mine.get("properties"), dict) and isinstance(field.get("properties"), dict):
            merge_fields(mine["properties"], field["properties"], path)
            continue
        raise CompositionError(
            "1413",
            "Merge Schema Error",
            f"Cannot merge incompatible data types. The path {path} is defined twice with different types: "
            f"{mine.get('type')}, {field.get('type')}",
        )


def extends_chain(schema: dict[str, Any], lookup: Lookup) -> list[str]:
    """``meta:extends`` of a schema: its class, what the class extends, then each field group after its own."""
    chain: list[str] = []
    for ref in external_refs(schema):
        part = lookup(ref)
        if part is None:
            continue
        extended = part.get("meta:extends", [])
        ordered = [ref, *extended] if part.get("meta:resourceType") == "classes" else [*extended, ref]
        for inherited in ordered:
            if inherited not in chain:
                chain.append(inherited)
    return chain


def resolve_schema(schema: dict[str, Any], lookup: Lookup, tenant: str) -> dict[str, Any]:
    """The schema as ``xed-full``: every part's fields merged into one closed draft-06 JSON Schema."""
    chain = extends_chain(schema, lookup)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part_id in chain:
        part = lookup(part_id)
        if part is None:
            raise CompositionError("1010", "Resource not found", f"The referenced resource {part_id} is not found.")
        fields, part_required = own_fields(part)
        merge_fields(properties, fields, "")
        required += [name for name in part_required if name not in required]
    resolved: dict[str, Any] = {
        "$id": schema["$id"],
        "meta:altId": schema["meta:altId"],
        "meta:resourceType": "schemas",
        "version": schema["version"],
        "title": schema["title"],
        "type": "object",
        "description": schema.get("description", ""),
        "properties": properties,
    }
    if required:
        resolved["required"] = required
    resolved.update(
        {
            "additionalProperties": False,
            "meta:class": schema.get("meta:class", chain[0] if chain else ""),
            "meta:abstract": False,
            "meta:extensible": False,
            "meta:extends": chain,
            "meta:containerId": "tenant",
            "meta:xdmType": "object",
            "meta:tenantNamespace": f"_{tenant}",
            "$schema": DRAFT_06,
        }
    )
    for key in ("meta:immutableTags", "imsOrg", "meta:sandboxId", "meta:sandboxType", "meta:registryMetadata"):
        if key in schema:
            resolved[key] = copy.deepcopy(schema[key])
    return resolved


def resolve_part(body: dict[str, Any]) -> dict[str, Any]:
    """A class, field group or behavior as ``xed-full``: its own fields under ``properties``, no ``allOf``."""
    fields, required = own_fields(body)
    resolved = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("allOf", "definitions")}
    resolved["properties"] = fields
    if required:
        resolved["required"] = required
    return resolved
