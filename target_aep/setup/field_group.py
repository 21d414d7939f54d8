"""The tenant field group "Stripe Object Details" (`_{tenant}.stripe`), generated from the mapping's own table.

`target_aep.xdm.stripe_fields.TENANT_FIELDS` declares every field the mapping fills, with its XDM type; the
field group is built from that table and nothing else, so the two cannot drift apart. An existing field group
is compared field by field: fields it lacks are added with JSON Patch `add` operations (AEP's schema
evolution allows that, also for schemas enabled for Profile); a field whose type differs would need a
destructive change (AEP refuses to retype a field in use), so it is reported and left alone; fields the mapping
does not fill stay as they are. The tenant fields are never `required`: a required field may not be added to
a schema enabled for Profile.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_aep.setup.plan import Pending
from target_aep.xdm.stripe_fields import TENANT_FIELDS, TenantField

DEFINITION = "stripeObjectDetails"
XDM_LONG_MAX = 9007199254740991  # XDM `long`: the integers a JSON number holds exactly (2^53 - 1)

STRIPE_OBJECT_TITLE = "Stripe"
STRIPE_OBJECT_DESCRIPTION = "The Stripe object this record was built from."

# XDM type -> the JSON Schema the Schema Registry stores for it (field constraints guide).
_XDM_TYPES: dict[str, dict[str, t.Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "date-time": {"type": "string", "format": "date-time"},
    "long": {"type": "integer", "minimum": -XDM_LONG_MAX, "maximum": XDM_LONG_MAX},
    "map": {"type": "object", "additionalProperties": {"type": "string", "meta:xdmType": "string"}},
}


def tenant_field_schema(tenant_field: TenantField) -> dict[str, t.Any]:
    """One field of `_{tenant}.stripe` as the Schema Registry stores it."""
    return {
        "title": tenant_field.title,
        "description": tenant_field.description,
        **_XDM_TYPES[tenant_field.xdm_type],
        "meta:xdmType": tenant_field.xdm_type,
    }


def stripe_object_schema() -> dict[str, t.Any]:
    """The `stripe` object under `_{tenant}`: one property per declared tenant field."""
    return {
        "title": STRIPE_OBJECT_TITLE,
        "description": STRIPE_OBJECT_DESCRIPTION,
        "type": "object",
        "properties": {f.name: tenant_field_schema(f) for f in TENANT_FIELDS},
    }


def _definition(tenant: str) -> dict[str, t.Any]:
    return {"properties": {f"_{tenant}": {"type": "object", "properties": {"stripe": stripe_object_schema()}}}}


def field_group_body(*, title: str, description: str, tenant: str, class_ids: list[str | Pending]) -> dict[str, t.Any]:
    """The `POST /tenant/fieldgroups` body."""
    return {
        "title": title,
        "description": description,
        "type": "object",
        "meta:intendedToExtend": list(class_ids),
        "definitions": {DEFINITION: _definition(tenant)},
        "allOf": [{"$ref": f"#/definitions/{DEFINITION}"}],
    }


def xdm_type_of(node: dict[str, t.Any]) -> str:
    """The XDM type of a stored field: its `meta:xdmType`, else what its JSON Schema implies."""
    declared = node.get("meta:xdmType")
    if isinstance(declared, str) and declared:
        return declared
    kind = node.get("type")
    if kind == "string":
        return {"date-time": "date-time", "date": "date"}.get(str(node.get("format")), "string")
    if kind == "integer":
        maximum = node.get("maximum")
        if not isinstance(maximum, int) or maximum > 2**31 - 1:
            return "long"
        return "int" if maximum > 32767 else "short" if maximum > 127 else "byte"
    if kind == "number":
        return "double"
    if kind == "object":
        return "map" if isinstance(node.get("additionalProperties"), dict) else "object"
    return str(kind or "?")


@dataclass
class FieldGroupChanges:
    """How an existing field group differs from the generated one."""

    missing: list[str] = field(default_factory=list)  # tenant fields to add
    retyped: list[str] = field(default_factory=list)  # "amount: string here, long in the mapping" (left alone)
    extra: list[str] = field(default_factory=list)  # fields the mapping does not fill (kept)
    missing_classes: list[str | Pending] = field(default_factory=list)
    ops: list[dict[str, t.Any]] = field(default_factory=list)  # non-destructive JSON Patch `add`s


def compare_field_group(stored: dict[str, t.Any], tenant: str, class_ids: list[str | Pending]) -> FieldGroupChanges:
    """What an existing field group (stored `xed` form) lacks, and what differs destructively."""
    changes = FieldGroupChanges()
    extends = stored.get("meta:intendedToExtend") or []
    for class_id in class_ids:
        if class_id not in extends:
            changes.missing_classes.append(class_id)
            changes.ops.append({"op": "add", "path": "/meta:intendedToExtend/-", "value": class_id})
    located = _locate_tenant_block(stored, tenant)
    if located is None:
        changes.missing = [f.name for f in TENANT_FIELDS]
        definitions = stored.get("definitions")
        if not isinstance(definitions, dict):
            changes.ops.append({"op": "add", "path": "/definitions", "value": {}})
        name = DEFINITION if not (isinstance(definitions, dict) and DEFINITION in definitions) else DEFINITION + "2"
        changes.ops.append({"op": "add", "path": f"/definitions/{name}", "value": _definition(tenant)})
        changes.ops.append({"op": "add", "path": "/allOf/-", "value": {"$ref": f"#/definitions/{name}"}})
        return changes
    pointer, tenant_block = located
    stripe = (tenant_block.get("properties") or {}).get("stripe")
    if not isinstance(stripe, dict):
        changes.missing = [f.name for f in TENANT_FIELDS]
        if not isinstance(tenant_block.get("properties"), dict):
            changes.ops.append({"op": "add", "path": f"{pointer}/properties", "value": {}})
        changes.ops.append({"op": "add", "path": f"{pointer}/properties/stripe", "value": stripe_object_schema()})
        return changes
    if xdm_type_of(stripe) != "object":
        changes.retyped.append(f"stripe: {xdm_type_of(stripe)} here, an object in the mapping")
        return changes
    stored_fields = stripe.get("properties") or {}
    if not isinstance(stored_fields, dict):
        stored_fields = {}
        changes.ops.append({"op": "add", "path": f"{pointer}/properties/stripe/properties", "value": {}})
    for tenant_field in TENANT_FIELDS:
        node = stored_fields.get(tenant_field.name)
        if not isinstance(node, dict):
            changes.missing.append(tenant_field.name)
            changes.ops.append(
                {
                    "op": "add",
                    "path": f"{pointer}/properties/stripe/properties/{tenant_field.name}",
                    "value": tenant_field_schema(tenant_field),
                }
            )
        elif (have := xdm_type_of(node)) != tenant_field.xdm_type:
            changes.retyped.append(f"{tenant_field.name}: {have} here, {tenant_field.xdm_type} in the mapping")
    declared = {f.name for f in TENANT_FIELDS}
    changes.extra = sorted(name for name in stored_fields if name not in declared)
    return changes


def _locate_tenant_block(stored: dict[str, t.Any], tenant: str) -> tuple[str, dict[str, t.Any]] | None:
    """The JSON pointer and node of `_{tenant}` in the field group's definitions (or top-level properties)."""
    key = f"_{tenant}"
    definitions = stored.get("definitions")
    if isinstance(definitions, dict):
        for name, definition in definitions.items():
            block = (definition.get("properties") or {}).get(key) if isinstance(definition, dict) else None
            if isinstance(block, dict):
                return f"/definitions/{name}/properties/{key}", block
    block = (stored.get("properties") or {}).get(key)
    if isinstance(block, dict):
        return f"/properties/{key}", block
    return None
