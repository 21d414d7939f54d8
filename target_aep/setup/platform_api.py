"""The Platform APIs set-up talks to: Schema Registry, Identity Service, Catalog and Flow Service.

Every call goes through the target's own `PlatformGateway`, so set-up sends the same four Platform headers
(`x-sandbox-name` is always the configured sandbox: nothing is read or written anywhere else) and retries like
the target does (429 with `Retry-After`, 5xx, dropped connections, one new IMS token after a 401). What the
gateway hands back as an error status is turned here into a message that says what to do: a 403 names the
API and the product-profile permission to add, an unknown sandbox says so.
"""

from __future__ import annotations

import re
import typing as t
import urllib.parse
from dataclasses import dataclass

from target_aep.aep.errors import AEPAuthError, AEPRequestError
from target_aep.aep.gateway import error_fields
from target_aep.setup.errors import PermissionDeniedError, SandboxNotFoundError

if t.TYPE_CHECKING:
    import requests

    from target_aep.aep.gateway import PlatformGateway

REGISTRY = "/data/foundation/schemaregistry"
REGISTRY_KINDS = {"classes": "class", "fieldgroups": "field group", "schemas": "schema"}  # path -> what it is
XED_ID_ACCEPT = "application/vnd.adobe.xed-id+json"
XED_ACCEPT = "application/vnd.adobe.xed+json; version=1"
IDENTITY_NAMESPACES = "/data/core/idnamespace/identities"
DATASETS = "/data/foundation/catalog/dataSets"
FLOW_SERVICE = "/data/foundation/flowservice"

# How the gateway words a sandbox the org does not have (or the credential cannot see), as opposed to a
# missing permission inside a sandbox it can see.
_SANDBOX_MISSING = re.compile(
    r"sandbox\b[^;]*\b(does not exist|doesn't exist|not found|unknown|is invalid|not provisioned)"
    r"|(unknown|invalid|no such) sandbox",
    re.IGNORECASE,
)
# Every status comes back to us (after the gateway's retries) so that a refusal can be explained here.
_ANY_STATUS = range(100, 600)
_MAX_PAGES = 100


@dataclass(frozen=True)
class PlatformApi:
    """One Platform API and the product-profile permissions (Adobe Admin Console) its calls need."""

    name: str
    category: str
    read_permission: str
    write_permission: str


SCHEMA_REGISTRY_API = PlatformApi("Schema Registry", "Data Modeling", "View Schemas", "Manage Schemas")
IDENTITY_API = PlatformApi(
    "Identity Service", "Identity Management", "View Identity Namespaces", "Manage Identity Namespaces"
)
CATALOG_API = PlatformApi("Catalog", "Data Management", "View Datasets", "Manage Datasets")
FLOW_SERVICE_API = PlatformApi("Flow Service", "Sources", "View Sources", "Manage Sources")


class SetupApi:
    """The calls set-up makes, each one request (lists follow their pages)."""

    def __init__(self, gateway: PlatformGateway) -> None:
        self.gateway = gateway
        self.sandbox = gateway.sandbox_name
        self.writes = 0  # requests that change something in the sandbox (counted for the summary)

    # -- the one place a response status is judged

    def call(
        self,
        api: PlatformApi,
        method: str,
        path: str,
        *,
        what: str,
        ok: t.Collection[int] = (200, 201),
        **kwargs: t.Any,
    ) -> requests.Response:
        """Send one call; return the response if its status is in ``ok``, else raise an error that says what to do."""
        if method != "GET":
            self.writes += 1
        response = self.gateway.request(method, path, what=what, ok=_ANY_STATUS, **kwargs)
        if response.status_code in ok:
            return response
        raise self._refusal(api, method, what, response)

    def _refusal(self, api: PlatformApi, method: str, what: str, response: requests.Response) -> Exception:
        status = response.status_code
        code, message = _problem(response)
        said = f"HTTP {status}{' ' + code if code else ''}{': ' + message if message else ''}"
        if status in (400, 403, 404) and _SANDBOX_MISSING.search(message):
            return SandboxNotFoundError(
                f"sandbox '{self.sandbox}' cannot be used ({api.name} answered {said}): check that it exists in "
                f"org {self.gateway.org_id} (sandbox_name) and that the credential's product profile includes it"
            )
        if status == 403:
            permission = api.read_permission if method == "GET" else api.write_permission
            return PermissionDeniedError(
                f"{api.name} refused to {what} ({said}): add the permission '{permission}' ({api.category}) for "
                f"sandbox '{self.sandbox}' to the role or product profile of this API credential "
                "(Experience Platform > Permissions, or Adobe Admin Console)"
            )
        if status == 401:
            return AEPAuthError(
                f"{what}: the Platform refused the credentials ({said}); check client_id, client_secret and org_id"
            )
        return AEPRequestError(what, status, code, message)

    # -- Schema Registry

    def tenant_stats(self) -> dict[str, t.Any]:
        """`GET /stats`: the sandbox's tenant id (and that the sandbox and the credential work at all)."""
        return _json_object(
            self.call(SCHEMA_REGISTRY_API, "GET", f"{REGISTRY}/stats", what="read the Schema Registry stats")
        )

    def find_resources(self, kind: str, title: str) -> list[dict[str, t.Any]]:
        """Tenant ``kind`` (`classes`, `fieldgroups`, `schemas`) titled exactly ``title``: `$id`, `meta:altId`, ..."""
        found: list[dict[str, t.Any]] = []
        path: str | None = f"{REGISTRY}/tenant/{kind}"
        params: dict[str, str] | None = {"property": f"title=={title}"}
        for _ in range(_MAX_PAGES):
            if path is None:
                break
            body = _json_object(
                self.call(
                    SCHEMA_REGISTRY_API,
                    "GET",
                    path,
                    what=f"list the sandbox's {REGISTRY_KINDS.get(kind, kind)} resources",
                    headers={"Accept": XED_ID_ACCEPT},
                    params=params,
                )
            )
            found += [r for r in body.get("results") or [] if isinstance(r, dict) and r.get("title") == title]
            path, params = _next_page(body), None
        return found

    def resource(self, kind: str, resource_id: str) -> dict[str, t.Any]:
        """One tenant resource in its stored form (`xed`: `allOf`, `definitions`, `meta:extends`, tags)."""
        quoted = urllib.parse.quote(resource_id, safe="")
        return _json_object(
            self.call(
                SCHEMA_REGISTRY_API,
                "GET",
                f"{REGISTRY}/tenant/{kind}/{quoted}",
                what=f"read {REGISTRY_KINDS.get(kind, kind)} {resource_id}",
                headers={"Accept": XED_ACCEPT},
            )
        )

    def create_resource(self, kind: str, body: dict[str, t.Any]) -> dict[str, t.Any]:
        """`POST /tenant/{kind}`; returns the created resource (with its `$id`)."""
        created = _json_object(
            self.call(
                SCHEMA_REGISTRY_API,
                "POST",
                f"{REGISTRY}/tenant/{kind}",
                what=f"create {REGISTRY_KINDS.get(kind, kind)} '{body.get('title')}'",
                json=body,
            )
        )
        if not created.get("$id"):
            raise AEPRequestError(f"create {REGISTRY_KINDS.get(kind, kind)} '{body.get('title')}'", 201, "", "no $id")
        return created

    def patch_resource(self, kind: str, resource_id: str, ops: list[dict[str, t.Any]], what: str) -> None:
        """`PATCH /tenant/{kind}/{id}` with JSON Patch operations (only `add` is ever sent)."""
        quoted = urllib.parse.quote(resource_id, safe="")
        self.call(SCHEMA_REGISTRY_API, "PATCH", f"{REGISTRY}/tenant/{kind}/{quoted}", what=what, json=ops)

    # -- Identity Service

    def namespaces(self) -> list[dict[str, t.Any]]:
        """Every identity namespace the sandbox sees (standard and custom)."""
        body = self.call(IDENTITY_API, "GET", IDENTITY_NAMESPACES, what="list identity namespaces").json()
        return [n for n in body if isinstance(n, dict)] if isinstance(body, list) else []

    def create_namespace(self, body: dict[str, t.Any]) -> dict[str, t.Any]:
        return _json_object(
            self.call(
                IDENTITY_API, "POST", IDENTITY_NAMESPACES, what=f"create identity namespace '{body['code']}'", json=body
            )
        )

    # -- Catalog

    def datasets_named(self, name: str) -> dict[str, dict[str, t.Any]]:
        """Datasets called exactly ``name`` (names are not unique in Catalog), keyed by id."""
        body = _json_object(
            self.call(
                CATALOG_API, "GET", DATASETS, what=f"list datasets named '{name}'", params={"property": f"name=={name}"}
            )
        )
        return {k: v for k, v in body.items() if isinstance(v, dict) and v.get("name") == name}

    def create_dataset(self, body: dict[str, t.Any]) -> str:
        """`POST /dataSets`; Catalog answers `["@/dataSets/{id}"]`."""
        what = f"create dataset '{body['name']}'"
        answer = self.call(
            CATALOG_API, "POST", DATASETS, what=what, params={"requestDataSource": "true"}, json=body
        ).json()
        ref = answer[0] if isinstance(answer, list) and answer else ""
        dataset_id = str(ref).rsplit("/", 1)[-1]
        if not dataset_id:
            raise AEPRequestError(what, 201, "", f"unexpected answer {answer!r}")
        return dataset_id

    def patch_dataset(self, dataset_id: str, ops: list[dict[str, t.Any]], what: str) -> None:
        self.call(
            CATALOG_API,
            "PATCH",
            f"{DATASETS}/{dataset_id}",
            what=what,
            headers={"Content-Type": "application/json-patch+json"},
            json=ops,
        )

    # -- Flow Service

    def flow_objects(self, kind: str, filters: str | None = None) -> list[dict[str, t.Any]]:
        """Every `connections`, `sourceConnections`, `targetConnections` or `flows` item (optionally filtered)."""
        items: list[dict[str, t.Any]] = []
        path: str | None = f"{FLOW_SERVICE}/{kind}"
        params: dict[str, str] | None = {"property": filters} if filters else None
        for _ in range(_MAX_PAGES):
            if path is None:
                break
            body = _json_object(self.call(FLOW_SERVICE_API, "GET", path, what=f"list {kind}", params=params))
            items += [i for i in body.get("items") or [] if isinstance(i, dict)]
            path, params = _next_page(body), None
        return items

    def flow_object(self, kind: str, object_id: str) -> dict[str, t.Any]:
        body = _json_object(
            self.call(FLOW_SERVICE_API, "GET", f"{FLOW_SERVICE}/{kind}/{object_id}", what=f"read {kind} {object_id}")
        )
        items = body.get("items")
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else body

    def create_flow_object(self, kind: str, body: dict[str, t.Any]) -> str:
        what = f"create {kind} '{body.get('name')}'"
        created = _json_object(self.call(FLOW_SERVICE_API, "POST", f"{FLOW_SERVICE}/{kind}", what=what, json=body))
        if not created.get("id"):
            raise AEPRequestError(what, 201, "", "the answer has no id")
        return str(created["id"])


def _json_object(response: requests.Response) -> dict[str, t.Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _next_page(body: dict[str, t.Any]) -> str | None:
    """The next page's address from `_links.next.href` (or `_page.next`), as a path or URL; None at the end."""
    links = body.get("_links") or {}
    nxt = links.get("next") if isinstance(links, dict) else None
    href = nxt.get("href") if isinstance(nxt, dict) else nxt
    if not href:
        page = body.get("_page") or {}
        href = page.get("next") if isinstance(page, dict) else None
    if not isinstance(href, str) or not href:
        return None
    return href


def _problem(response: requests.Response) -> tuple[str, str]:
    """AEP's error code and message from any of its error body shapes (gateway, problem details, Identity)."""
    code, message = error_fields(response)
    try:
        body = response.json()
    except ValueError:
        return code, message
    if isinstance(body, dict):
        found = body.get("report")
        report: dict[str, t.Any] = found if isinstance(found, dict) else {}
        texts = (body.get("detail"), body.get("description"), report.get("detailed-message"), report.get("message"))
        for text in (str(x) for x in texts if x):
            if text not in message:
                message = f"{message}; {text}" if message else text
        code = code or str(report.get("code") or "")
    return code, " ".join(message.split())[:500]
