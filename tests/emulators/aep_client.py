"""A small Platform client for the AEP emulator tests: token, standard headers per sandbox, JSON calls."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

XDM = Path(__file__).resolve().parents[2] / "xdm"
CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG = "EMULATOR0000000000000001@AdobeOrg"
SCOPES = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"
XED_ID = "application/vnd.adobe.xed-id+json"
XED = "application/vnd.adobe.xed+json; version=1"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"
REGISTRY = "/data/foundation/schemaregistry"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
RECORD = "https://ns.adobe.com/xdm/data/record"
IDENTITY_MAP = "https://ns.adobe.com/xdm/context/identitymap"
COMMERCE = "https://ns.adobe.com/xdm/context/experienceevent-commerce"
PERSON = "https://ns.adobe.com/xdm/context/profile-person-details"
CONTACT = "https://ns.adobe.com/xdm/context/profile-personal-details"


class Platform:
    """Calls one emulator as one client in one sandbox."""

    def __init__(self, url: str, sandbox: str = "prod") -> None:
        self.url = url
        self.sandbox = sandbox
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": SCOPES,
        }
        self.token = requests.post(f"{url}/ims/token/v3", data=form, timeout=10).json()["access_token"]
        self.session = requests.Session()

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "x-api-key": CLIENT_ID,
            "x-gw-ims-org-id": ORG,
            "x-sandbox-name": self.sandbox,
            **extra,
        }

    def call(self, method: str, path: str, *, accept: str | None = None, **kwargs: Any) -> requests.Response:
        headers = self.headers(**({"Accept": accept} if accept else {}), **kwargs.pop("headers", {}))
        return self.session.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, json=body, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    # --- provisioning shortcuts --------------------------------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a tenant resource; asserts 201."""
        response = self.post(f"{REGISTRY}/tenant/{kind}", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def resolved(self, schema_id: str) -> dict[str, Any]:
        response = self.get(f"{REGISTRY}/tenant/schemas/{quote(schema_id)}", accept=XED_FULL)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def dataset(self, name: str, schema_id: str, **extra: Any) -> str:
        """Create a dataset; returns its id."""
        body = {"name": name, "schemaRef": {"id": schema_id, "contentType": XED_FULL}, **extra}
        response = self.post("/data/foundation/catalog/dataSets?requestDataSource=true", body)
        assert response.status_code == 201, response.text
        return str(response.json()[0].removeprefix("@/dataSets/"))

    def run_batch(self, dataset_id: str, lines: list[bytes], **options: Any) -> dict[str, Any]:
        """Create a batch (``options`` in its body), upload one file, COMPLETE, poll until finished."""
        created = self.post(
            "/data/foundation/import/batches", {"datasetId": dataset_id, "inputFormat": {"format": "json"}, **options}
        )
        assert created.status_code == 201, created.text
        batch_id = created.json()["id"]
        put = self.call(
            "PUT",
            f"/data/foundation/import/batches/{batch_id}/datasets/{dataset_id}/files/part-1.json",
            data=b"".join(line.rstrip(b"\n") + b"\n" for line in lines),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 200, put.text
        assert self.post(f"/data/foundation/import/batches/{batch_id}?action=COMPLETE", None).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = self.get(f"/data/foundation/catalog/batches/{batch_id}").json()[batch_id]
            if body["status"] in ("success", "failed"):
                return dict(body)
            time.sleep(0.02)
        raise AssertionError(f"batch {batch_id} did not finish")


def quote(value: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(value, safe="")


def tenant_field_group(
    title: str, fields: dict[str, Any], classes: list[str], tenant: str = "acme", stripe_keys: Any = None
) -> dict[str, Any]:
    """A field group body holding ``_{tenant}.stripe`` with ``fields`` (``stripe_keys``: its title, ...)."""
    return {
        "title": title,
        "description": f"{title} (test)",
        "type": "object",
        "meta:intendedToExtend": classes,
        "definitions": {
            "stripe": {
                "properties": {
                    f"_{tenant}": {
                        "type": "object",
                        "properties": {"stripe": {**(stripe_keys or {}), "type": "object", "properties": fields}},
                    }
                }
            }
        },
        "allOf": [{"$ref": "#/definitions/stripe"}],
    }


def stripe_object() -> dict[str, Any]:
    """``_acme.stripe`` of the xdm/ schemas, as a field group would define it."""
    schema = json.loads((XDM / "stripe-catalog-record.schema.json").read_text())
    return dict(schema["properties"]["_acme"]["properties"]["stripe"])


def stripe_fields() -> dict[str, Any]:
    return dict(stripe_object()["properties"])


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((XDM / "examples" / f"{name}.json").read_text()))
