"""What the Schema Registry checks before it stores a class, field group or schema (created or patched).

- every ``$ref`` of ``allOf`` exists; custom fields sit under ``_{tenant}`` and are valid XDM (``xdm_compose``);
- a class extends exactly one behavior (record or time-series);
- a field group defines fields of its own and is meant for existing classes (``meta:intendedToExtend``);
- a schema has exactly one class and field groups compatible with it, and composes without conflicts.
The registry-set attributes (``meta:extends``, ``meta:class``, ``meta:containerId``, ...) are filled in here.
"""

from __future__ import annotations

import copy
from typing import Any

from emulators.aep.schema_evolution import breaking_changes
from emulators.aep.xdm_compose import (
    CompositionError,
    Lookup,
    check_tenant_fields,
    external_refs,
    own_fields,
    resolve_schema,
)
from emulators.aep.xdm_library import RECORD, TIME_SERIES

_BEHAVIORS = (RECORD, TIME_SERIES)


def checked_resource(body: dict[str, Any], lookup: Lookup, tenant: str) -> dict[str, Any]:
    """The body as the registry stores it; raises :class:`CompositionError` as the registry refuses it."""
    kind = body["meta:resourceType"]
    refs = external_refs(body)
    unknown = [ref for ref in refs if lookup(ref) is None]
    if unknown:
        raise CompositionError("1010", "Resource not found", f"The referenced resource(s) {unknown} are not found.")
    if kind in ("classes", "mixins"):
        definitions = copy.deepcopy(body.get("definitions") or {})
        for name, definition in definitions.items():
            if not isinstance(definition, dict):
                raise CompositionError("1001", "Invalid resource", f"definition {name} must be an object")
            definition["properties"] = check_tenant_fields(definition.get("properties") or {}, tenant)
        body["definitions"] = definitions
        body.setdefault("meta:abstract", True)
        body.setdefault("meta:extensible", True)
    if kind == "classes":
        behaviors = [ref for ref in refs if ref in _BEHAVIORS]
        if len(behaviors) != 1 or len(refs) != 1:
            raise CompositionError(
                "1001", "Invalid class", f"a class's allOf must refer to exactly one behavior of {list(_BEHAVIORS)}"
            )
        body["meta:extends"] = behaviors
    elif kind == "mixins":
        if refs:
            raise CompositionError(
                "1001", "Invalid field group", "a field group's allOf may only refer to its own definitions"
            )
        targets = body.get("meta:intendedToExtend")
        if not isinstance(targets, list) or not all(_is_class(lookup, target) for target in targets):
            raise CompositionError(
                "1001", "Invalid field group", "meta:intendedToExtend must list the $id of existing classes"
            )
        fields, _ = own_fields(body)
        if not fields:
            raise CompositionError(
                "1001", "Invalid field group", "a field group must define fields (allOf -> #/definitions/...)"
            )
        body["meta:extends"] = []
    elif kind == "schemas":
        entries = body.get("allOf") or []
        if any(not isinstance(e, dict) or str(e.get("$ref", "#")).startswith("#") for e in entries):
            raise CompositionError(
                "1001", "Invalid schema", "a schema's allOf may only refer to a class and field groups"
            )
        parts = [(ref, lookup(ref) or {}) for ref in refs]
        classes = [ref for ref, part in parts if part["meta:resourceType"] == "classes"]
        if len(classes) != 1:
            raise CompositionError("1001", "Invalid schema", "a schema's allOf must refer to exactly one class")
        class_body = lookup(classes[0]) or {}
        compatible = {classes[0], *class_body.get("meta:extends", [])}
        for ref, part in parts:
            if part["meta:resourceType"] == "classes":
                continue
            if part["meta:resourceType"] != "mixins":
                raise CompositionError("1001", "Invalid schema", f"{ref} is not a class or a field group")
            targets = part.get("meta:intendedToExtend") or []
            if targets and not compatible & set(targets):
                raise CompositionError(
                    "1001", "Invalid schema", f"field group {ref} is not compatible with class {classes[0]}"
                )
        body["meta:class"] = classes[0]
        body["meta:abstract"] = False
        body["meta:extensible"] = False
        resolved = resolve_schema(body, lookup, tenant)
        body["meta:extends"] = resolved["meta:extends"]
    for entry in body.get("allOf") or []:
        entry.setdefault("type", "object")
        entry.setdefault("meta:xdmType", "object")
    body["meta:containerId"] = "tenant"
    body["meta:xdmType"] = "object"
    body["meta:tenantNamespace"] = f"_{tenant}"
    return body


def _is_class(lookup: Lookup, ref: Any) -> bool:
    part = lookup(ref) if isinstance(ref, str) else None
    return part is not None and part["meta:resourceType"] in ("classes", "behaviors")


def evolution_problems(
    before: dict[str, Any], after: dict[str, Any], dependents: list[str], lookup: Lookup, tenant: str
) -> list[str]:
    """The breaking changes from ``before`` to ``after`` (empty: additive only). Raises CompositionError when a
    schema in ``dependents`` (built on the resource) would no longer compose."""
    resource_id = after["$id"]

    def with_change(ref: str) -> dict[str, Any] | None:
        body = lookup(ref)
        return after if body is not None and body["$id"] == resource_id else body

    for schema_id in dependents:
        schema = with_change(schema_id)
        if schema is not None:
            resolve_schema(schema, with_change, tenant)
    if after["meta:resourceType"] == "schemas":
        old = resolve_schema(before, lookup, tenant)
        new = resolve_schema(after, lookup, tenant)
        return breaking_changes(old["properties"], new["properties"], old.get("required", []), new.get("required", []))
    old_fields, old_required = own_fields(before)
    new_fields, new_required = own_fields(after)
    return breaking_changes(old_fields, new_fields, old_required, new_required)
