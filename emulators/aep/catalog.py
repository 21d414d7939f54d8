"""One sandbox's Catalog datasets: create from a schema, find by name, read, ``PATCH`` tags (Profile switches).

A dataset points at a Schema Registry schema (``schemaRef``); ingestion validates every row against that schema's
current ``xed-full`` form. Objects come keyed by id, as Catalog answers them.
"""

from __future__ import annotations

import copy
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulators.aep.config import CLIENT_ID, ORG_ID
from emulators.aep.json_patch import PatchError, apply_patch
from emulators.aep.replies import Reply, problem
from emulators.aep.schema_registry import SchemaRegistry
from emulators.aep.validation import RecordValidator

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
_EDITABLE = ("name", "description", "tags", "enableErrorDiagnostics", "fileDescription", "observableSchema")
_PROFILE_TAGS = ("unifiedProfile", "unifiedIdentity")
_FILTER = re.compile(r"^(?P<key>[A-Za-z0-9_.:]+)\s*(?P<op>==|!=|~)\s*(?P<value>.*)$")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass
class Dataset:
    """One Catalog dataset and the schema it was created from."""

    id: str
    name: str
    schema_id: str
    content_type: str = XED_FULL
    description: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)
    created_ms: int = 0
    updated_ms: int = 0
    version: str = "1.0.0"
    extra: dict[str, Any] = field(default_factory=dict)  # other attributes the client set (enableErrorDiagnostics...)

    def profile_enabled(self) -> bool:
        return any(_enabled(self.tags.get(tag)) for tag in _PROFILE_TAGS)


def _enabled(values: list[str] | None) -> bool:
    return any(str(v).replace(" ", "").lower() == "enabled:true" for v in values or [])


class Catalog:
    """Datasets of one sandbox; validators come from the sandbox's Schema Registry."""

    def __init__(self, registry: SchemaRegistry, sandbox_id: str) -> None:
        self.registry = registry
        self.sandbox_id = sandbox_id
        self.datasets: dict[str, Dataset] = {}
        self._lock = threading.Lock()
        registry.in_use = self.schema_in_use

    # --- used by ingestion ---------------------------------------------------------------------------------------

    def dataset(self, dataset_id: str) -> Dataset | None:
        with self._lock:
            return self.datasets.get(dataset_id)

    def validator(self, dataset_id: str) -> RecordValidator:
        """The validator of the dataset's schema as it is now (a schema that grew validates the new fields)."""
        dataset = self.dataset(dataset_id)
        if dataset is None:
            raise KeyError(dataset_id)
        return self.registry.validator(dataset.schema_id)

    def schema_in_use(self, schema_id: str) -> bool:
        with self._lock:
            return any(d.schema_id == schema_id for d in self.datasets.values())

    def add_preset(self, dataset: Dataset) -> None:
        with self._lock:
            self.datasets[dataset.id] = dataset

    # --- HTTP operations -------------------------------------------------------------------------------------------

    def create(self, body: Any) -> Reply:
        """``POST /dataSets``: 201 ``["@/dataSets/{id}"]``; the schema must exist, names are unique (*assumed*)."""
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "the request body must be a JSON object")
        unknown = sorted(set(body) - {*_EDITABLE, "schemaRef", "schema", "dataSourceId", "basePath"})
        if unknown:
            return problem(400, "Bad Request", f"unknown dataset attribute(s): {unknown}")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            return problem(400, "Bad Request", "a dataset needs a 'name'")
        ref = body.get("schemaRef")
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("id"), str)
            or not isinstance(ref.get("contentType"), str)
        ):
            return problem(400, "Bad Request", "schemaRef needs 'id' (the schema $id) and 'contentType'")
        if not ref["contentType"].replace(" ", "").startswith("application/vnd.adobe.xed"):
            return problem(400, "Bad Request", f"schemaRef.contentType {ref['contentType']!r} is not an XDM format")
        schema = self.registry.lookup(ref["id"])
        if schema is None or schema.get("meta:resourceType") != "schemas":
            return problem(400, "Bad Request", f"schemaRef.id {ref['id']} is not a schema in this sandbox")
        tags = body.get("tags", {})
        invalid = _tags_problem(tags)
        if invalid:
            return invalid
        now = int(time.time() * 1000)
        dataset = Dataset(
            id=uuid.uuid4().hex[:24],
            name=name,
            schema_id=schema["$id"],
            content_type=ref["contentType"],
            description=str(body.get("description", "")),
            tags=copy.deepcopy(tags),
            created_ms=now,
            updated_ms=now,
            extra={k: copy.deepcopy(body[k]) for k in ("enableErrorDiagnostics", "fileDescription") if k in body},
        )
        refused = self._profile_refusal(dataset)
        if refused:
            return refused
        with self._lock:
            if any(d.name == name for d in self.datasets.values()):
                return problem(400, "Bad Request", f"a dataset named {name!r} already exists in this sandbox")
            self.datasets[dataset.id] = dataset
        return Reply(201, [f"@/dataSets/{dataset.id}"], {"Location": f"/data/foundation/catalog/dataSets/{dataset.id}"})

    def get(self, dataset_id: str, query: dict[str, list[str]]) -> Reply:
        """``GET /dataSets/{id}``: the dataset keyed by its id, or 404."""
        dataset = self.dataset(dataset_id)
        if dataset is None:
            return problem(404, "Not Found", f"dataset {dataset_id} not found")
        return Reply(200, {dataset.id: _select(self.describe(dataset), query)})

    def list(self, query: dict[str, list[str]]) -> Reply:
        """``GET /dataSets``: by ``name``, ``property=key==value`` (``!=``, ``~`` regex), ``start``/``limit``."""
        conditions = [part for v in query.get("property", []) for part in v.split(",") if part.strip()]
        if "name" in query:
            conditions.append(f"name=={query['name'][0]}")
        try:
            limit = min(int((query.get("limit") or [str(DEFAULT_LIMIT)])[0]), MAX_LIMIT)
            start = int((query.get("start") or ["0"])[0])
        except ValueError:
            return problem(400, "Bad Request", "limit and start must be integers")
        with self._lock:
            datasets = sorted(self.datasets.values(), key=lambda d: (d.created_ms, d.id))
        described = [self.describe(d) for d in datasets]
        for condition in conditions:
            match = _FILTER.match(condition.strip())
            if not match:
                return problem(400, "Bad Request", f"cannot read the property filter {condition!r}")
            described = [d for d in described if _holds(d, match["key"], match["op"], match["value"])]
        page = described[start : start + limit]
        return Reply(200, {d["id"]: _select({k: v for k, v in d.items() if k != "id"}, query) for d in page})

    def patch(self, dataset_id: str, body: Any, content_type: str) -> Reply:
        """``PATCH /dataSets/{id}``: JSON Patch (``application/json-patch+json``) or a partial object (JSON)."""
        with self._lock:
            dataset = self.datasets.get(dataset_id)
        if dataset is None:
            return problem(404, "Not Found", f"dataset {dataset_id} not found")
        current = {key: copy.deepcopy(value) for key, value in self._editable(dataset).items()}
        if content_type == "application/json-patch+json":
            try:
                updated = apply_patch(current, body)
            except PatchError as error:
                return problem(400, "Bad Request", f"invalid JSON Patch: {error}")
        elif isinstance(body, dict):
            updated = {**current, **copy.deepcopy(body)}
        else:
            return problem(400, "Bad Request", "the body must be a JSON object, or a JSON Patch array")
        changed = sorted(k for k in set(updated) | set(current) if updated.get(k) != current.get(k))
        read_only = [k for k in changed if k not in _EDITABLE]
        if read_only:
            return problem(400, "Bad Request", f"attribute(s) {read_only} cannot be changed")
        invalid = _tags_problem(updated.get("tags", {}))
        if invalid:
            return invalid
        candidate = copy.copy(dataset)
        candidate.tags = copy.deepcopy(updated.get("tags", {}))
        refused = self._profile_refusal(candidate)
        if refused:
            return refused
        with self._lock:
            dataset.name = str(updated.get("name", dataset.name))
            dataset.description = str(updated.get("description", ""))
            dataset.tags = candidate.tags
            for key in ("enableErrorDiagnostics", "fileDescription", "observableSchema"):
                if key in updated:
                    dataset.extra[key] = updated[key]
            if changed:
                dataset.updated_ms = int(time.time() * 1000)
                major, minor, patch_level = ([*dataset.version.split("."), "0", "0"])[:3]
                dataset.version = f"{major}.{minor}.{int(patch_level) + 1}"
        return Reply(200, [f"@/dataSets/{dataset.id}"])

    def describe(self, dataset: Dataset) -> dict[str, Any]:
        """The dataset as Catalog answers it (plus ``id``, removed when keyed)."""
        body: dict[str, Any] = {
            "id": dataset.id,
            "name": dataset.name,
            "description": dataset.description,
            "imsOrg": ORG_ID,
            "sandboxId": self.sandbox_id,
            "version": dataset.version,
            "created": dataset.created_ms,
            "updated": dataset.updated_ms,
            "createdClient": CLIENT_ID,
            "createdUser": f"{CLIENT_ID}@AdobeID",
            "updatedUser": f"{CLIENT_ID}@AdobeID",
            "schemaRef": {"id": dataset.schema_id, "contentType": dataset.content_type},
            "tags": copy.deepcopy(dataset.tags),
            "files": f"@/dataSetFiles?dataSetId={dataset.id}",
        }
        body.update(copy.deepcopy(dataset.extra))
        return body

    def _editable(self, dataset: Dataset) -> dict[str, Any]:
        described = self.describe(dataset)
        return {k: v for k, v in described.items() if k not in ("id",)}

    def _profile_refusal(self, dataset: Dataset) -> Reply | None:
        """Platform enables a dataset for Profile only when its schema is enabled for Profile (*assumed* body)."""
        if not dataset.profile_enabled():
            return None
        schema = self.registry.lookup(dataset.schema_id) or {}
        if "union" in schema.get("meta:immutableTags", []):
            return None
        return problem(
            400,
            "Bad Request",
            f"dataset {dataset.name!r} cannot be enabled for Profile: its schema {dataset.schema_id} is not enabled "
            "for Profile (meta:immutableTags ['union'])",
        )


def _tags_problem(tags: Any) -> Reply | None:
    if not isinstance(tags, dict) or not all(
        isinstance(values, list) and all(isinstance(v, str) for v in values) for values in tags.values()
    ):
        return problem(400, "Bad Request", "tags must be an object of string arrays")
    return None


def _holds(dataset: dict[str, Any], key: str, op: str, value: str) -> bool:
    actual: Any = dataset
    for part in key.split("."):
        actual = actual.get(part) if isinstance(actual, dict) else None
    if op == "~":
        return actual is not None and re.search(value, str(actual)) is not None
    found = value in actual if isinstance(actual, list) else actual is not None and str(actual) == value
    return found if op == "==" else not found


def _select(body: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    """``properties=a,b`` keeps only those top-level attributes."""
    wanted = [p.strip() for v in query.get("properties", []) for p in v.split(",") if p.strip()]
    return {k: v for k, v in body.items() if k in wanted} if wanted else body
