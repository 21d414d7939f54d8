"""Platform's schema evolution rules: once a schema is used by a dataset or enabled for Profile, a change may only
add. Removing a field, changing its type, making a field required (new or existing), or restricting the values a
field takes (a lower ``maximum``, a higher ``minimum``, a narrower ``enum``, a shorter ``maxLength``, a new or
changed ``pattern``) is a breaking change: data already ingested could no longer be valid. Adobe's "Basics of
schema composition" lists "removing or restricting previously supported field values" among the changes it refuses
once a schema has been used; the same rules apply to the field groups and classes the schema is built from."""

from __future__ import annotations

from typing import Any


def breaking_changes(
    old: dict[str, Any], new: dict[str, Any], old_required: list[str], new_required: list[str], at: str = ""
) -> list[str]:
    """Every breaking difference from ``old`` to ``new`` field trees, as one line each (empty: additive only)."""
    found: list[str] = []
    for name in sorted(set(new_required) - set(old_required)):
        found.append(f"{at}/{name}: a field cannot become required")
    for name, before in old.items():
        path = f"{at}/{name}"
        after = new.get(name)
        if after is None:
            found.append(f"{path}: a field cannot be removed")
            continue
        if before.get("type") != after.get("type") or before.get("meta:xdmType") != after.get("meta:xdmType"):
            found.append(
                f"{path}: a field cannot change type ({before.get('meta:xdmType') or before.get('type')} -> "
                f"{after.get('meta:xdmType') or after.get('type')})"
            )
            continue
        found += restrictions(before, after, path)
        found += _nested(before, after, path)
    return found


# keyword -> True when a larger value restricts (a lower bound), False when a smaller one does (an upper bound)
_BOUNDS = {
    "minimum": True,
    "exclusiveMinimum": True,
    "minLength": True,
    "minItems": True,
    "maximum": False,
    "exclusiveMaximum": False,
    "maxLength": False,
    "maxItems": False,
}


def restrictions(before: dict[str, Any], after: dict[str, Any], path: str) -> list[str]:
    """How ``after`` accepts fewer values than ``before`` for the one field at ``path`` (its own keywords)."""
    found: list[str] = []
    for keyword, lower_bound in _BOUNDS.items():
        old, new = before.get(keyword), after.get(keyword)
        if new is None or old == new or not _is_number(new):
            continue
        if old is None or (_is_number(old) and (new > old if lower_bound else new < old)):
            was = "none" if old is None else old
            found.append(f"{path}: {keyword} cannot be restricted ({was} -> {new})")
    old_enum, new_enum = before.get("enum"), after.get("enum")
    if isinstance(new_enum, list) and old_enum != new_enum:
        dropped = [v for v in old_enum if v not in new_enum] if isinstance(old_enum, list) else None
        if dropped is None:
            found.append(f"{path}: an enum cannot be added to a field in use")
        elif dropped:
            found.append(f"{path}: enum values cannot be removed ({', '.join(map(repr, dropped))})")
    old_pattern, new_pattern = before.get("pattern"), after.get("pattern")
    if new_pattern is not None and new_pattern != old_pattern:
        found.append(f"{path}: a pattern cannot be added or changed ({old_pattern!r} -> {new_pattern!r})")
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _nested(before: dict[str, Any], after: dict[str, Any], path: str) -> list[str]:
    if before.get("type") == "object" and isinstance(before.get("properties"), dict):
        return breaking_changes(
            before["properties"],
            after.get("properties") or {},
            list(before.get("required") or []),
            list(after.get("required") or []),
            path,
        )
    if before.get("type") == "array" and isinstance(before.get("items"), dict):
        items_before, items_after = before["items"], after.get("items") or {}
        return restrictions(items_before, items_after, f"{path}/items") + _nested(
            items_before, items_after, f"{path}/items"
        )
    if before.get("type") == "object" and isinstance(before.get("additionalProperties"), dict):
        inner_before, inner_after = before["additionalProperties"], after.get("additionalProperties") or {}
        if inner_before.get("type") != inner_after.get("type"):
            return [f"{path}/*: a map's values cannot change type"]
        return restrictions(inner_before, inner_after, f"{path}/*") + _nested(inner_before, inner_after, f"{path}/*")
    return []
