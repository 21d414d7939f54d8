"""A dataset's XDM schema (`xed-full`), compiled once into a tree the mapper can query and fit values to.

The Schema Registry returns one resolved draft-06 document: closed objects (`additionalProperties: false`),
maps (`additionalProperties: {...}`), arrays, and scalar leaves with `pattern`, `format`, bounds. The mapper
only needs those facts, so they are compiled into small `SchemaNode` objects instead of re-reading dicts.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

XdmClass = Literal["profile", "experienceevent", "record"]

PROFILE_CLASS = "https://ns.adobe.com/xdm/context/profile"
EVENT_CLASS = "https://ns.adobe.com/xdm/context/experienceevent"


@dataclass(eq=False)
class SchemaNode:
    """One schema location: an object, a map, an array or a scalar leaf."""

    kind: str  # "object" | "map" | "array" | "string" | "integer" | "number" | "boolean" | "any"
    properties: dict[str, SchemaNode] = field(default_factory=dict)
    values: SchemaNode | None = None  # map value / array item node
    required: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    fmt: str | None = None
    enum: frozenset[Any] | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    # Set by `compile_node` on scalar leaves without constraints: a value of exactly this Python type fits
    # as is, which spares the common case all further checks.
    plain_type: type | None = None
    # The compiled `fitting.Fitter` of this node, built on first use by `fitting.fitter_for`.
    fitter: Callable[[Any, str, Callable[[str, str, str], None]], Any] | None = field(default=None, repr=False)

    @property
    def is_container(self) -> bool:
        return self.kind in ("object", "map", "array")


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"] style: take the first non-null type
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        if "properties" in schema:
            return "object"
        if isinstance(schema.get("additionalProperties"), dict):
            return "map"
        return "object"
    if kind in ("array", "string", "integer", "number", "boolean"):
        return str(kind)
    return "any"


def compile_node(schema: dict[str, Any]) -> SchemaNode:
    """Compile one JSON-schema location (recursively) into a `SchemaNode`."""
    kind = _kind(schema)
    node = SchemaNode(kind=kind)
    if kind == "object":
        node.properties = {name: compile_node(sub) for name, sub in schema.get("properties", {}).items()}
        node.required = tuple(schema.get("required", ()))
    elif kind == "map":
        node.values = compile_node(schema["additionalProperties"])
    elif kind == "array":
        items = schema.get("items")
        node.values = compile_node(items) if isinstance(items, dict) else SchemaNode(kind="any")
    else:
        if "pattern" in schema:
            node.pattern = re.compile(schema["pattern"])
        node.fmt = schema.get("format")
        if "enum" in schema:
            node.enum = frozenset(schema["enum"])
        node.max_length = schema.get("maxLength")
        node.minimum = schema.get("minimum")
        node.maximum = schema.get("maximum")
        constrained = node.pattern or node.fmt or node.enum is not None or node.max_length is not None
        if not constrained and node.minimum is None and node.maximum is None:
            node.plain_type = {"string": str, "boolean": bool, "number": float, "integer": int}.get(kind)
    return node


class SchemaTree:
    """The compiled schema plus the facts the mapper needs: class, tenant namespace, path lookup."""

    def __init__(self, schema: dict[str, Any], tenant_id: str | None = None) -> None:
        self.schema = schema
        self.schema_id: str = schema.get("$id", "")
        self.root = compile_node(schema)
        self.xdm_class: XdmClass = xdm_class_of(schema)
        namespace = schema.get("meta:tenantNamespace")
        self.tenant_key = f"_{tenant_id}" if tenant_id else (namespace or "")

    @classmethod
    def shared(cls, schema: dict[str, Any], tenant_id: str | None = None) -> SchemaTree:
        """The tree of `schema`, compiled once for every stream landing in it (one schema object): a run maps
        dozens of streams into a few schemas, and a tree's nodes hold only what the schema decides (and the
        fitters built from it, which are pure). Keyed by the schema object itself: a schema is not changed once
        a mapper was built for it (the runtime reads each schema once)."""
        key = (id(schema), tenant_id)
        tree = _SHARED_TREES.get(key)
        if tree is None or tree.schema is not schema:
            tree = _SHARED_TREES[key] = cls(schema, tenant_id)
        return tree

    def node_at(self, path: str) -> SchemaNode | None:
        """The node at a dotted XDM path (`commerce.order.priceTotal`); `[]` steps into array items.

        Map keys may be named too (`identityMap.Email`, `_acme.stripe.metadata.plan`).
        """
        node: SchemaNode | None = self.root
        for part in path.split("."):
            into_items = part.endswith("[]")
            name = part[:-2] if into_items else part
            node = _child(node, name) if node is not None else None
            if node is None:
                return None
            if into_items:
                if node.kind != "array":
                    return None
                node = node.values
        return node

    def has(self, path: str) -> bool:
        return self.node_at(path) is not None

    def tenant_fields(self) -> frozenset[str]:
        """Field names under `_{tenant}.stripe` in this schema (the customer's own field group)."""
        node = self.node_at(f"{self.tenant_key}.stripe") if self.tenant_key else None
        if node is None or node.kind != "object":
            return frozenset()
        return frozenset(node.properties)


# Held weakly: a tree lives as long as a mapper uses it, and keeps its schema alive, so a key's `id` cannot be reused
# by another schema while its entry exists.
_SHARED_TREES: weakref.WeakValueDictionary[tuple[int, str | None], SchemaTree] = weakref.WeakValueDictionary()


def _child(node: SchemaNode, name: str) -> SchemaNode | None:
    if node.kind == "object":
        return node.properties.get(name)
    if node.kind == "map":
        return node.values
    return None


def xdm_class_of(schema: dict[str, Any]) -> XdmClass:
    """Which XDM class a dataset schema is, from `meta:class`, else from `meta:extends`."""
    declared = schema.get("meta:class")
    extends = schema.get("meta:extends") or []
    for candidate in [declared, *extends]:
        if candidate == PROFILE_CLASS:
            return "profile"
        if candidate == EVENT_CLASS:
            return "experienceevent"
    return "record"
