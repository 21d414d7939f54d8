"""Catalog and Schema Registry: dataset -> ``schemaRef`` -> the resolved (``xed-full``) XDM schema."""

from __future__ import annotations

import threading
import typing as t
import urllib.parse
from dataclasses import dataclass

from target_aep.aep.errors import AEPRequestError, DatasetNotFoundError

if t.TYPE_CHECKING:
    from target_aep.aep.gateway import PlatformGateway

XED_FULL_ACCEPT = "application/vnd.adobe.xed-full+json; version=1"
XED_FULL_CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"


@dataclass(frozen=True)
class DatasetTarget:
    """Where a stream lands: the dataset, its schema and (streaming) the inlet."""

    stream: str
    dataset_id: str
    schema_id: str
    schema_content_type: str
    schema: dict
    inlet_id: str | None = None

    @property
    def xdm_class(self) -> str:
        """The schema's class URI (``meta:class``), e.g. ``https://ns.adobe.com/xdm/context/profile``."""
        return str(self.schema.get("meta:class", ""))


class Catalog:
    """Reads datasets and schemas once per run (cached; schemas are shared by datasets)."""

    def __init__(self, gateway: PlatformGateway) -> None:
        self.gateway = gateway
        self._schemas: dict[str, dict] = {}
        self._schema_refs: dict[str, tuple[str, str]] = {}  # dataset id -> (schema id, content type)
        self._lock = threading.Lock()

    def tenant_id(self) -> str:
        """The sandbox's tenant namespace (``acme`` for ``_acme`` fields)."""
        body = self.gateway.request("GET", "/data/foundation/schemaregistry/stats", what="Schema Registry stats").json()
        tenant = body.get("tenantId")
        if not tenant:
            raise AEPRequestError("Schema Registry stats", 200, "", "answer has no tenantId; set tenant_id")
        return str(tenant)

    def dataset_target(self, stream: str, dataset_id: str, inlet_id: str | None = None) -> DatasetTarget:
        """Resolve a configured dataset into its schema; an unknown id names the stream and the setting."""
        with self._lock:
            ref = self._schema_refs.get(dataset_id)
        if ref is None:
            ref = self._schema_ref(stream, dataset_id)
            with self._lock:
                self._schema_refs[dataset_id] = ref
        schema_id, content_type = ref
        return DatasetTarget(
            stream=stream,
            dataset_id=dataset_id,
            schema_id=schema_id,
            schema_content_type=content_type,
            schema=self.schema(schema_id),
            inlet_id=inlet_id,
        )

    def _schema_ref(self, stream: str, dataset_id: str) -> tuple[str, str]:
        try:
            response = self.gateway.request(
                "GET", f"/data/foundation/catalog/dataSets/{dataset_id}", what=f"Catalog dataset {dataset_id}"
            )
        except AEPRequestError as exc:
            if exc.status in (400, 404):
                raise DatasetNotFoundError(
                    f"stream '{stream}': dataset '{dataset_id}' (setting datasets.{stream}.dataset_id) "
                    f"is not known to the Platform in this sandbox ({exc.status} {exc.aep_message})".rstrip()
                ) from None
            raise
        body = response.json()
        dataset = (body.get(dataset_id) or next(iter(body.values()), None)) if isinstance(body, dict) else None
        if not isinstance(dataset, dict) or "schemaRef" not in dataset:
            raise DatasetNotFoundError(
                f"stream '{stream}': dataset '{dataset_id}' has no schemaRef; it cannot take XDM records"
            )
        ref = dataset["schemaRef"]
        return str(ref["id"]), str(ref.get("contentType") or XED_FULL_CONTENT_TYPE)

    def schema(self, schema_id: str) -> dict:
        """The whole schema resolved into one JSON Schema, as ingestion validates against it."""
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        quoted = urllib.parse.quote(schema_id, safe="")
        schema = self.gateway.request(
            "GET",
            f"/data/foundation/schemaregistry/tenant/schemas/{quoted}",
            what=f"Schema Registry schema {schema_id}",
            headers={"Accept": XED_FULL_ACCEPT},
        ).json()
        with self._lock:
            self._schemas[schema_id] = schema
        return schema
