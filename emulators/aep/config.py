"""The emulated organization: fixed credentials, tenant, the stripe preset's dataset ids and inlet (binding:
docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

XDM_DIR = Path(__file__).resolve().parents[2] / "xdm"

CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG_ID = "EMULATOR0000000000000001@AdobeOrg"
TENANT_ID = "acme"
DEFAULT_SANDBOXES = ("prod",)
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"

DEFAULT_TOKEN_TTL = 86399
DEFAULT_BATCH_PROCESSING_MS = 50
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
MAX_STREAMING_BYTES = 1024 * 1024

# The stripe preset (``--sandbox-preset stripe``): what today's tests, bench and demo find already provisioned.
PRESET_STRIPE = "stripe"
INLET_ID = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"
# dataset id -> (dataset name, schema file under xdm/)
DATASET_SCHEMA_FILES = {
    "6650f0c0ffee000000000001": ("Stripe customers", "stripe-customer-profile.schema.json"),
    "6650f0c0ffee000000000002": ("Stripe commerce events", "stripe-commerce-event.schema.json"),
    "6650f0c0ffee000000000003": ("Stripe catalog objects", "stripe-catalog-record.schema.json"),
}
PRESET_NAMESPACE = {"name": "Stripe customer id", "code": "StripeCustomerId", "idType": "Cross_device"}
