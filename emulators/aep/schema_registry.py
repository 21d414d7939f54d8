"""One sandbox's Schema Registry: the global library plus the tenant's classes, field groups and schemas.

Resources are kept in ``xed`` form (own fields under ``definitions``, the rest by ``$ref`` in ``allOf``) and
resolved on demand (``xdm_compose``). Creating checks what Platform checks (required keys, custom fields under
``_{tenant}``, a schema's one class and compatible field groups, unique titles); ``PATCH`` applies JSON Patch and
then the evolution rules: a resource in use (by a dataset, or a Profile-enabled schema) may only grow.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from emulators.aep import accept
from emulators.aep.config import CLIENT_ID, ORG_ID
from emulators.aep.json_patch import PatchError, apply_patch
from emulators.aep.registry_checks import checked_resource, evolution_problems
from emulators.aep.registry_listing import list_reply
from emulators.aep.replies import Reply, registry_problem
from emulators.aep.validation import RecordValidator
from emulators.aep.xdm_compose import (
    CompositionError,
    resolve_part,
    resolve_schema,
)
from emulators.aep.xdm_library import IDENTITY_MAP, PresetSchema, standard_resources

# URL segment -> meta:resourceType; field groups keep their older resource type name, "mixins", in ids and bodies.
KINDS = {"classes": "classes", "fieldgroups": "mixins", "schemas": "schemas", "behaviors": "behaviors"}
_NOT_FOUND_CODES = {"classes": "1010", "mixins": "1011", "schemas": "1012", "behaviors": "1013"}
_REQUIRED_KEYS = {
    "classes": ("type", "title", "description", "allOf"),
    "mixins": ("type", "title", "meta:intendedToExtend"),
    "schemas": ("type", "title", "description", "allOf"),
}
_READ_ONLY = (
    "$id",
    "meta:altId",
    "meta:resourceType",
    "meta:containerId",
    "version",
    "meta:registryMetadata",
    "imsOrg",
    "meta:tenantNamespace",
    "meta:sandboxId",
    "meta:sandboxType",
    "meta:class",
)
# Set by the registry from allOf: a client may send them (Adobe's guides PATCH "add /meta:extends/-" beside
# "add /allOf/-"), but what it sends is replaced by what the parts compose to.
_DERIVED = ("meta:extends",)


@dataclass
class Stored:
    body: dict[str, Any]  # xed form, as a lookup with Accept xed answers it
    created_ms: int
    updated_ms: int
    full_text: str | None = None  # preset schemas: the xdm/ file served verbatim until the schema changes


def _now_ms() -> int:
    return int(time.time() * 1000)


class SchemaRegistry:
    """Thread-safe. ``in_use(schema_id)`` tells whether a dataset uses a schema (the Catalog answers it)."""

    def __init__(self, tenant: str, sandbox_name: str, sandbox_id: str, sandbox_type: str) -> None:
        self.tenant = tenant
        self.sandbox_name = sandbox_name
        self.sandbox_id = sandbox_id
        self.sandbox_type = sandbox_type
        self.in_use: Callable[[str], bool] = lambda schema_id: False
        self.has_primary_identity: Callable[[str], bool] = lambda schema_id: False
        self._resources: dict[str, Stored] = {}
        self._alt_ids: dict[str, str] = {}
        self._generation = 0  # bumped on every change: resolved schemas and validators are cached per generation
        self._resolved: dict[str, tuple[int, dict[str, Any]]] = {}
        self._validators: dict[str, tuple[str, RecordValidator]] = {}
        self._lock = threading.RLock()
        for body in standard_resources():
            self._keep(body)

    # --- lookups used by the other services ---------------------------------------------------------------------

    def lookup(self, ref: str) -> dict[str, Any] | None:
        """The xed body for a ``$id`` or ``meta:altId`` (url-encoded or not), or None."""
        with self._lock:
            stored = self._find(ref)
            return stored.body if stored else None

    def resolved_schema(self, schema_id: str) -> dict[str, Any] | None:
        """A tenant schema as ``xed-full`` (what ingestion validates against), or None if there is none."""
        with self._lock:
            stored = self._find(schema_id)
            if stored is None or stored.body["meta:resourceType"] != "schemas":
                return None
            schema_id = stored.body["$id"]
            cached = self._resolved.get(schema_id)
            if cached and cached[0] == self._generation:
                return cached[1]
            resolved = resolve_schema(stored.body, self._lookup_body, self.tenant)
            self._resolved[schema_id] = (self._generation, resolved)
            return resolved

    def validator(self, schema_id: str) -> RecordValidator:
        """The compiled validator of a schema's current version (rebuilt when the schema changes)."""
        resolved = self.resolved_schema(schema_id)
        if resolved is None:
            raise KeyError(schema_id)
        key = resolved["version"] + "|" + ",".join(resolved["meta:extends"]) + f"|{self._generation}"
        with self._lock:
            cached = self._validators.get(schema_id)
            if cached and cached[0] == key:
                return cached[1]
        compiled = RecordValidator(resolved)
        with self._lock:
            self._validators[schema_id] = (key, compiled)
        return compiled

    def add_preset(
        self, record_class: dict[str, Any], field_group: dict[str, Any], schemas: list[PresetSchema]
    ) -> None:
        """Load the stripe preset's tenant resources (ids fixed by ``xdm/``)."""
        with self._lock:
            for body in (record_class, field_group):
                self._keep(self._with_registry_fields(body))
            for schema in schemas:
                stored = self._keep(self._with_registry_fields(schema.body))
                stored.full_text = schema.full_text

    # --- HTTP operations ------------------------------------------------------------------------------------------

    def stats(self) -> Reply:
        """``GET /stats``: the tenant id and counts of tenant resources."""
        with self._lock:
            tenant_bodies = [s for s in self._resources.values() if s.body.get("meta:containerId") == "tenant"]
            counts = {kind: 0 for kind in ("schemas", "mixins", "classes", "datatypes", "unions")}
            for stored in tenant_bodies:
                counts[stored.body["meta:resourceType"]] = counts.get(stored.body["meta:resourceType"], 0) + 1
                if "union" in stored.body.get("meta:immutableTags", []):
                    counts["unions"] += 1
            recent = sorted(tenant_bodies, key=lambda s: s.created_ms, reverse=True)[:5]
            updated = sorted(tenant_bodies, key=lambda s: s.updated_ms, reverse=True)[:5]
            return Reply(
                200,
                {
                    "imsOrg": ORG_ID,
                    "tenantId": self.tenant,
                    "counts": counts,
                    "recentlyCreatedResources": [_summary(s.body) for s in recent],
                    "recentlyUpdatedResources": [_summary(s.body) for s in updated],
                    "classUsage": self._class_usage(tenant_bodies),
                },
            )

    def list(self, container: str, segment: str, accept_header: str | None, query: dict[str, list[str]]) -> Reply:
        """``GET /{container}/{classes|fieldgroups|schemas|behaviors}``."""
        accepted = accept.for_listing(accept_header)
        if isinstance(accepted, Reply):
            return accepted
        kind = KINDS[segment]
        with self._lock:
            bodies = [
                copy.deepcopy(s.body)
                for s in self._resources.values()
                if s.body["meta:resourceType"] == kind and s.body.get("meta:containerId") == container
            ]
        return list_reply(
            bodies,
            full=accepted.form == "xed",
            query=query,
            base_path=f"/data/foundation/schemaregistry/{container}/{segment}",
            content_type=accepted.media_type,
        )

    def get(self, container: str, segment: str, ref: str, accept_header: str | None) -> Reply:
        """``GET /{container}/{segment}/{$id or meta:altId}`` in the form the Accept header asks for."""
        kind = KINDS[segment]
        with self._lock:
            stored = self._find(ref)
            if stored is None or not _is(stored, kind, container):
                return self._not_found(kind, unquote(ref))
            accepted = accept.for_lookup(accept_header, stored.body["version"])
            if isinstance(accepted, Reply):
                return accepted
            if not accepted.full:
                body: dict[str, Any] = copy.deepcopy(stored.body)
            elif kind == "schemas" and stored.full_text is not None and accepted.with_text:
                return Reply(200, raw=stored.full_text.encode("utf-8"), content_type=accept.content_type(accepted))
            elif kind == "schemas":
                try:
                    body = copy.deepcopy(self.resolved_schema(stored.body["$id"]) or {})
                except CompositionError as error:
                    return registry_problem(400, error.code, error.title, error.detail)
            else:
                body = resolve_part(stored.body)
        if not accepted.with_text:
            _drop_text(body, keep_descriptions=accepted.form == "xed-full-desc")
        return Reply(200, body, content_type=accept.content_type(accepted))

    def create(self, segment: str, payload: Any) -> Reply:
        """``POST /tenant/{classes|fieldgroups|schemas}``: 201 with the new resource in ``xed`` form."""
        kind = KINDS[segment]
        if not isinstance(payload, dict):
            return registry_problem(400, "1001", "Invalid request", "The request body must be a JSON object.")
        missing = [key for key in _REQUIRED_KEYS[kind] if key not in payload]
        if missing:
            return registry_problem(400, "1001", "Invalid request", f"Missing required attribute(s): {missing}")
        if payload.get("type") != "object" or not isinstance(payload.get("title"), str) or not payload["title"]:
            return registry_problem(400, "1001", "Invalid request", "'type' must be 'object' and 'title' a string")
        with self._lock:
            taken = self._title_owner(payload["title"])
            if taken:
                return _title_not_unique(taken)
            hex_id = uuid.uuid4().hex + uuid.uuid4().hex[:16]
            body = {k: copy.deepcopy(v) for k, v in payload.items() if k not in _READ_ONLY + _DERIVED}
            body["$id"] = f"https://ns.adobe.com/{self.tenant}/{kind}/{hex_id}"
            body["meta:altId"] = f"_{self.tenant}.{kind}.{hex_id}"
            body["meta:resourceType"] = kind
            body["version"] = "1.0"
            try:
                body = self._checked(body)
            except CompositionError as error:
                return registry_problem(400, error.code, error.title, error.detail)
            if kind == "schemas" and "union" in body.get("meta:immutableTags", []):
                refused = self._union_refusal(body)
                if refused:
                    return refused
            stored = self._keep(self._with_registry_fields(body))
            self._generation += 1
            return Reply(201, copy.deepcopy(stored.body))

    def patch(self, segment: str, ref: str, operations: Any) -> Reply:
        """``PATCH /tenant/{segment}/{id}``: JSON Patch, then Platform's evolution rules."""
        kind = KINDS[segment]
        with self._lock:
            stored = self._find(ref)
            if stored is None or not _is(stored, kind, "tenant"):
                return self._not_found(kind, unquote(ref))
            before = stored.body
            try:
                after = apply_patch(before, operations)
            except PatchError as error:
                return registry_problem(400, "1001", "Invalid JSON Patch", str(error))
            changed = [key for key in _READ_ONLY if after.get(key) != before.get(key)]
            if changed:
                return registry_problem(400, "1001", "Invalid JSON Patch", f"read-only attribute(s) changed: {changed}")
            if not isinstance(after.get("title"), str) or not after["title"]:
                return registry_problem(400, "1001", "Invalid JSON Patch", "'title' must stay a non-empty string")
            owner = self._title_owner(after["title"])
            if owner and owner != after["$id"]:
                return _title_not_unique(owner)
            tags_before, tags_after = before.get("meta:immutableTags", []), after.get("meta:immutableTags", [])
            if kind != "schemas" and tags_after:
                return registry_problem(400, "1001", "Invalid JSON Patch", "only schemas take meta:immutableTags")
            if set(tags_before) - set(tags_after) or set(tags_after) - {"union"}:
                return registry_problem(
                    400, "1001", "Invalid JSON Patch", "meta:immutableTags only takes 'union', and it cannot be removed"
                )
            try:
                after = self._checked(after)
                refusal = self._evolution_refusal(stored, after)
            except CompositionError as error:
                return registry_problem(400, error.code, error.title, error.detail)
            if refusal:
                return refusal
            if "union" in tags_after and "union" not in tags_before:
                refused = self._union_refusal(after)
                if refused:
                    return refused
            major, minor = [*before["version"].split("."), "0"][:2]
            after["version"] = f"{major}.{int(minor) + 1}"
            now = _now_ms()
            after["meta:registryMetadata"] = {
                **before.get("meta:registryMetadata", {}),
                "repo:lastModifiedDate": now,
                "eTag": uuid.uuid4().hex,
            }
            stored.body, stored.updated_ms = after, now
            self._generation += 1
            self._drop_verbatim(after["$id"])
            return Reply(200, copy.deepcopy(after))

    # --- checks ---------------------------------------------------------------------------------------------------

    def _checked(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with its custom fields normalized; raises CompositionError as the registry refuses it."""
        return checked_resource(body, self._lookup_body, self.tenant)

    def _evolution_refusal(self, stored: Stored, after: dict[str, Any]) -> Reply | None:
        """400 when a change to a resource in use is not purely additive (or breaks a schema built on it)."""
        resource_id = after["$id"]
        dependents = [resource_id] if after["meta:resourceType"] == "schemas" else self._schemas_using(resource_id)
        found = evolution_problems(stored.body, after, dependents, self._lookup_body, self.tenant)
        in_use = [sid for sid in dependents if self._schema_in_use(sid)]
        if not found or not in_use:
            return None
        return registry_problem(
            400,
            "1017",
            "Breaking change not allowed",
            f"{resource_id} is used by {', '.join(in_use)} (in a dataset or enabled for Profile); only additive "
            f"changes are allowed: " + "; ".join(found),
        )

    def _union_refusal(self, schema: dict[str, Any]) -> Reply | None:
        if IDENTITY_MAP in schema.get("meta:extends", []) or self.has_primary_identity(schema["$id"]):
            return None
        return registry_problem(
            400,
            "1528",
            "Union descriptor validation error",
            "To participate in a union, a schema must include an identityMap fieldgroup or a primary identity "
            "descriptor.",
        )

    def _schema_in_use(self, schema_id: str) -> bool:
        stored = self._find(schema_id)
        return bool(stored and "union" in stored.body.get("meta:immutableTags", [])) or self.in_use(schema_id)

    def _schemas_using(self, resource_id: str) -> list[str]:
        return [
            s.body["$id"]
            for s in self._resources.values()
            if s.body["meta:resourceType"] == "schemas" and resource_id in s.body.get("meta:extends", [])
        ]

    # --- storage --------------------------------------------------------------------------------------------------

    def _keep(self, body: dict[str, Any]) -> Stored:
        now = _now_ms()
        stored = Stored(body, now, now)
        self._resources[body["$id"]] = stored
        self._alt_ids[body["meta:altId"]] = body["$id"]
        return stored

    def _find(self, ref: str) -> Stored | None:
        key = unquote(ref)
        return self._resources.get(key) or self._resources.get(self._alt_ids.get(key, ""))

    def _lookup_body(self, ref: str) -> dict[str, Any] | None:
        stored = self._find(ref)
        return stored.body if stored else None

    def _title_owner(self, title: str) -> str | None:
        for stored in self._resources.values():
            if stored.body.get("meta:containerId") == "tenant" and stored.body.get("title") == title:
                return str(stored.body["$id"])
        return None

    def _drop_verbatim(self, resource_id: str) -> None:
        for schema_id in [resource_id, *self._schemas_using(resource_id)]:
            stored = self._find(schema_id)
            if stored is not None:
                stored.full_text = None

    def _with_registry_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        now = _now_ms()
        body = dict(body)
        body["imsOrg"] = ORG_ID
        body["meta:sandboxId"] = self.sandbox_id
        body["meta:sandboxType"] = self.sandbox_type
        body["meta:registryMetadata"] = {
            "repo:createdDate": now,
            "repo:lastModifiedDate": now,
            "xdm:createdClientId": CLIENT_ID,
            "xdm:lastModifiedClientId": CLIENT_ID,
            "eTag": uuid.uuid4().hex,
        }
        return body

    def _class_usage(self, tenant_bodies: list[Stored]) -> list[dict[str, Any]]:
        usage: dict[str, list[dict[str, Any]]] = {}
        for stored in tenant_bodies:
            if stored.body["meta:resourceType"] == "schemas":
                usage.setdefault(stored.body.get("meta:class", ""), []).append(_summary(stored.body))
        return [
            {
                "$id": class_id,
                "title": (self._lookup_body(class_id) or {}).get("title", ""),
                "numberOfSchemas": len(schemas),
                "schemas": schemas,
            }
            for class_id, schemas in usage.items()
        ]

    def _not_found(self, kind: str, ref: str) -> Reply:
        noun = {"mixins": "field group", "classes": "class", "schemas": "schema", "behaviors": "behavior"}[kind]
        return registry_problem(
            404, _NOT_FOUND_CODES[kind], "Resource not found", f"The requested {noun} resource {ref} is not found."
        )


def _is(stored: Stored, kind: str, container: str) -> bool:
    return bool(stored.body["meta:resourceType"] == kind and stored.body.get("meta:containerId") == container)


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"$id": body["$id"], "meta:altId": body["meta:altId"], "version": body["version"], "title": body["title"]}


def _title_not_unique(owner: str) -> Reply:
    return registry_problem(
        400,
        "1521",
        "Title not unique",
        f"Object titles must be unique. An object {owner} already exists with the same title",
    )


def _drop_text(schema: Any, keep_descriptions: bool) -> None:
    """Remove titles (and descriptions) from a schema node and its fields, never a field that has that name."""
    if not isinstance(schema, dict):
        return
    schema.pop("title", None)
    if not keep_descriptions:
        schema.pop("description", None)
    for field in (schema.get("properties") or {}).values():
        _drop_text(field, keep_descriptions)
    for key in ("items", "additionalProperties"):
        _drop_text(schema.get(key), keep_descriptions)
    for definition in (schema.get("definitions") or {}).values():
        _drop_text(definition, keep_descriptions)


def encoded(resource_id: str) -> str:
    """A ``$id`` as it goes in a path."""
    return quote(resource_id, safe="")
