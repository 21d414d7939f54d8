"""The emulated organization: fixed credentials, datasets and inlet (binding: docs/architecture.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

XDM_DIR = Path(__file__).resolve().parents[2] / "xdm"

CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG_ID = "EMULATOR0000000000000001@AdobeOrg"
TENANT_ID = "acme"
INLET_ID = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"

DEFAULT_TOKEN_TTL = 86399
DEFAULT_BATCH_PROCESSING_MS = 50
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
MAX_STREAMING_BYTES = 1024 * 1024

# dataset id -> (dataset name, schema file under xdm/)
DATASET_SCHEMA_FILES = {
    "6650f0c0ffee000000000001": ("Stripe customers", "stripe-customer-profile.schema.json"),
    "6650f0c0ffee000000000002": ("Stripe commerce events", "stripe-commerce-event.schema.json"),
    "6650f0c0ffee000000000003": ("Stripe catalog objects", "stripe-catalog-record.schema.json"),
}


@dataclass(frozen=True)
class Dataset:
    """One Catalog dataset and the XDM schema it was created from."""

    id: str
    name: str
    schema_file: Path
    schema_text: str  # served verbatim by the Schema Registry
    schema: dict[str, Any]

    @property
    def schema_id(self) -> str:
        return str(self.schema["$id"])

    @property
    def schema_alt_id(self) -> str:
        return str(self.schema.get("meta:altId", ""))


def load_datasets(xdm_dir: Path = XDM_DIR) -> dict[str, Dataset]:
    """Read the three dataset schemas from ``xdm/``."""
    datasets: dict[str, Dataset] = {}
    for dataset_id, (name, file_name) in DATASET_SCHEMA_FILES.items():
        path = xdm_dir / file_name
        text = path.read_text(encoding="utf-8")
        datasets[dataset_id] = Dataset(dataset_id, name, path, text, json.loads(text))
    return datasets
