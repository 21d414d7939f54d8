"""Schema Registry descriptors of one sandbox: metadata on a schema's fields, chiefly identity descriptors (a field
as an identity of a namespace, perhaps the primary one; a schema with a primary identity may be enabled for
Profile without ``identityMap``).

``POST /tenant/descriptors`` checks the ``@type``, that ``xdm:sourceSchema`` is a schema of the sandbox, that
``xdm:sourceProperty`` is one of its fields, and for identities that the namespace exists and that a schema has
one primary identity at most. Listing answers per ``@type``, in the form the ``xdm[-v2][-id|-link]`` Accept asks.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from typing import Any

from emulators.aep import accept
from emulators.aep.config import ORG_ID
from emulators.aep.replies import Reply, registry_problem
from emulators.aep.schema_registry import SchemaRegistry

TYPES = (
    "xdm:alternateDisplayInfo",
    "xdm:descriptorIdentity",
    "xdm:descriptorReferenceIdentity",
    "xdm:descriptorOneToOne",
    "xdm:descriptorRelationship",
)
_PATH = "/data/foundation/schemaregistry/tenant/descriptors"


class Descriptors:
    def __init__(self, registry: SchemaRegistry, namespace_known: Callable[[str], bool]) -> None:
        self._registry = registry
        self._namespace_known = namespace_known
        self._descriptors: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        registry.has_primary_identity = self.has_primary_identity

    def has_primary_identity(self, schema_id: str) -> bool:
        with self._lock:
            return any(
                _is_primary_identity(d) and d["xdm:sourceSchema"] == schema_id for d in self._descriptors.values()
            )

    def create(self, body: Any) -> Reply:
        """``POST /tenant/descriptors``: 201 with the descriptor and its ``@id``."""
        refused = self._refusal(body)
        if refused:
            return registry_problem(400, "1001", "Invalid descriptor", refused)
        descriptor = {
            **copy.deepcopy(body),
            "@id": uuid.uuid4().hex,
            "imsOrg": ORG_ID,
            "version": "1",
            "meta:containerId": "tenant",
            "meta:sandboxId": self._registry.sandbox_id,
            "meta:sandboxType": self._registry.sandbox_type,
        }
        with self._lock:
            if _is_primary_identity(descriptor) and any(
                _is_primary_identity(d) and d["xdm:sourceSchema"] == descriptor["xdm:sourceSchema"]
                for d in self._descriptors.values()
            ):
                return registry_problem(
                    400, "1001", "Invalid descriptor", "the schema already has a primary identity descriptor"
                )
            self._descriptors[descriptor["@id"]] = descriptor
        return Reply(201, copy.deepcopy(descriptor))

    def list(self, accept_header: str | None, query: dict[str, list[str]]) -> Reply:
        """``GET /tenant/descriptors``: grouped by ``@type`` (ids, links or objects); ``-v2`` pages a flat list."""
        accepted = accept.for_descriptors(accept_header)
        if isinstance(accepted, Reply):
            return accepted
        conditions = [part for v in query.get("property", []) for part in v.split(",") if "==" in part]
        with self._lock:
            found = [copy.deepcopy(d) for d in self._descriptors.values()]
        for condition in conditions:
            key, value = condition.split("==", 1)
            found = [d for d in found if str(d.get(key.strip())) == value]

        def shaped(descriptor: dict[str, Any]) -> Any:
            if accepted.form.endswith("-id"):
                return descriptor["@id"]
            if accepted.form.endswith("-link"):
                return f"{_PATH}/{descriptor['@id']}"
            return descriptor

        if accepted.form.startswith("xdm-v2"):
            results = [shaped(d) for d in found]
            return Reply(200, {"results": results, "_page": {"count": len(results), "next": None}, "_links": {}})
        grouped: dict[str, list[Any]] = {}
        for descriptor in found:
            grouped.setdefault(descriptor["@type"], []).append(shaped(descriptor))
        return Reply(200, grouped, content_type=accepted.media_type)

    def get(self, descriptor_id: str, accept_header: str | None) -> Reply:
        if accept_header is None or "application/vnd.adobe.xdm+json" not in accept_header.replace(" ", ""):
            return registry_problem(
                400,
                "1009",
                "Accept header invalid",
                f"The supplied Accept header is not valid: {accept_header or ''} - A valid Accept value should "
                "look like application/vnd.adobe.xdm+json",
            )
        with self._lock:
            descriptor = self._descriptors.get(descriptor_id)
        if descriptor is None:
            return registry_problem(
                404, "1016", "Resource not found", f"The requested descriptor {descriptor_id} is not found."
            )
        return Reply(200, copy.deepcopy(descriptor))

    def _refusal(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the request body must be a JSON object"
        if body.get("@type") not in TYPES:
            return f"@type must be one of {list(TYPES)}"
        schema = self._registry.resolved_schema(str(body.get("xdm:sourceSchema", "")))
        if schema is None:
            return f"xdm:sourceSchema {body.get('xdm:sourceSchema')!r} is not a schema of this sandbox"
        if not _has_field(schema, str(body.get("xdm:sourceProperty", ""))):
            return f"xdm:sourceProperty {body.get('xdm:sourceProperty')!r} is not a field of the schema"
        if body["@type"] == "xdm:descriptorIdentity":
            if body.get("xdm:property") not in ("xdm:code", "xdm:id"):
                return "xdm:property must be 'xdm:code' or 'xdm:id'"
            if not self._namespace_known(str(body.get("xdm:namespace", ""))):
                return f"identity namespace {body.get('xdm:namespace')!r} does not exist in this sandbox"
            if not isinstance(body.get("xdm:isPrimary", False), bool):
                return "xdm:isPrimary must be a boolean"
        return None


def _is_primary_identity(descriptor: dict[str, Any]) -> bool:
    return descriptor.get("@type") == "xdm:descriptorIdentity" and descriptor.get("xdm:isPrimary") is True


def _has_field(schema: dict[str, Any], pointer: str) -> bool:
    node: Any = schema
    parts = [p for p in pointer.split("/") if p]
    if not parts:
        return False
    for part in parts:
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            return False
        node = properties[part]
    return True
