"""Platform's schema evolution rules: once a schema is used by a dataset or enabled for Profile, a change may only
add. Removing a field, changing its type, or making a field required (new or existing) is a breaking change."""

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
        found += _nested(before, after, path)
    return found


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
        return _nested(before["items"], after.get("items") or {}, f"{path}/items")
    if before.get("type") == "object" and isinstance(before.get("additionalProperties"), dict):
        inner_before, inner_after = before["additionalProperties"], after.get("additionalProperties") or {}
        if inner_before.get("type") != inner_after.get("type"):
            return [f"{path}/*: a map's values cannot change type"]
        return _nested(inner_before, inner_after, f"{path}/*")
    return []
