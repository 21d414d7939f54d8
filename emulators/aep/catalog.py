"""Catalog datasets and the Schema Registry: which dataset uses which XDM schema, served as ``xed-full``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from emulators.aep.config import ORG_ID, TENANT_ID, XED_FULL, Dataset, load_datasets
from emulators.aep.validation import RecordValidator

_XED_FULL_TYPE = "application/vnd.adobe.xed-full+json"
_VERSION_PARAM = re.compile(r"""^\s*version\s*=\s*"?\s*([0-9.]+)\s*"?\s*$""", re.IGNORECASE)


class Catalog:
    """The three fixed datasets, each with its schema compiled once for validation."""

    def __init__(self) -> None:
        self.datasets: dict[str, Dataset] = load_datasets()
        self.validators: dict[str, RecordValidator] = {
            dataset_id: RecordValidator(dataset.schema) for dataset_id, dataset in self.datasets.items()
        }
        self._by_schema_ref: dict[str, Dataset] = {}
        for dataset in self.datasets.values():
            self._by_schema_ref[dataset.schema_id] = dataset
            self._by_schema_ref[dataset.schema_alt_id] = dataset

    def dataset_body(self, dataset_id: str) -> dict[str, Any] | None:
        """``GET /data/foundation/catalog/dataSets/{id}``: the dataset keyed by its id, or None."""
        dataset = self.datasets.get(dataset_id)
        if dataset is None:
            return None
        return {
            dataset_id: {
                "name": dataset.name,
                "imsOrg": ORG_ID,
                "sandboxId": "emulator-sandbox-prod",
                "version": "1.0.0",
                "created": 1700000000000,
                "updated": 1700000000000,
                "schemaRef": {"id": dataset.schema_id, "contentType": XED_FULL},
                "tags": {},
            }
        }

    @staticmethod
    def registry_stats() -> dict[str, Any]:
        """``GET /data/foundation/schemaregistry/stats`` (only the fields a client needs, *assumed* in detail)."""
        return {"imsOrg": ORG_ID, "tenantId": TENANT_ID, "counts": {"schemas": 3, "mixins": 1, "classes": 1}}

    def schema_text(self, encoded_ref: str) -> str | None:
        """The schema file, verbatim, for a url-encoded ``$id`` or ``meta:altId``; None if unknown."""
        dataset = self._by_schema_ref.get(unquote(encoded_ref))
        return dataset.schema_text if dataset else None

    def dataset_for_schema(self, schema_id: str) -> Dataset | None:
        return self._by_schema_ref.get(schema_id)


def accepts_xed_full(accept: str | None) -> bool:
    """True for ``application/vnd.adobe.xed-full+json; version=1`` and its spacing or quoting variants."""
    if not accept:
        return False
    for media_range in accept.split(","):
        media_type, *params = media_range.split(";")
        if media_type.strip().lower() != _XED_FULL_TYPE:
            continue
        for param in params:
            match = _VERSION_PARAM.match(param)
            if match and match.group(1).split(".")[0] == "1":
                return True
    return False
