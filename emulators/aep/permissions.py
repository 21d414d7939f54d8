"""Product profile permissions, as Adobe's access control names them, and the knob that withdraws some.

Every Platform call needs one permission (reads need "View ...", writes "Manage ..."). ``POST
/_emulator/permissions {"deny": ["Manage Schemas", ...]}`` withdraws them from the emulated client; a call that
needs a withdrawn permission is answered 403 before it reaches the service (body *assumed*: Adobe documents the
status, not the body).
"""

from __future__ import annotations

import threading

from emulators.aep.replies import Reply

# Path prefix under /data/ -> (API name, permission to read, permission to write)
_APIS = (
    ("/data/foundation/schemaregistry/", "Schema Registry", "View Schemas", "Manage Schemas"),
    ("/data/foundation/catalog/batches", "Catalog", "View Datasets", "Manage Datasets"),
    ("/data/foundation/catalog/", "Catalog", "View Datasets", "Manage Datasets"),
    ("/data/foundation/import/", "Batch Ingestion", "Manage Datasets", "Manage Datasets"),
    ("/data/foundation/export/", "Data Access", "View Datasets", "View Datasets"),
    ("/data/core/idnamespace/", "Identity Service", "View Identity Namespaces", "Manage Identity Namespaces"),
    ("/data/foundation/flowservice/", "Flow Service", "View Sources", "Manage Sources"),
)
KNOWN = sorted({name for _, _, read, write in _APIS for name in (read, write)})


def required(method: str, path: str) -> tuple[str, str] | None:
    """(API name, permission) a Platform call needs, or None for calls outside these APIs."""
    for prefix, api, read, write in _APIS:
        if path.startswith(prefix):
            return api, read if method in ("GET", "HEAD") else write
    return None


class Permissions:
    def __init__(self) -> None:
        self._denied: set[str] = set()
        self._lock = threading.Lock()

    def set_denied(self, names: list[str]) -> list[str]:
        """Replace the withdrawn set; raises ValueError naming unknown permissions."""
        unknown = sorted(set(names) - set(KNOWN))
        if unknown:
            raise ValueError(f"unknown permission(s) {unknown}; known: {KNOWN}")
        with self._lock:
            self._denied = set(names)
            return sorted(self._denied)

    def denied(self) -> list[str]:
        with self._lock:
            return sorted(self._denied)

    def check(self, method: str, path: str, sandbox: str) -> Reply | None:
        """None when the call may proceed, else the 403."""
        need = required(method, path)
        if need is None:
            return None
        api, permission = need
        with self._lock:
            if permission not in self._denied:
                return None
        action = "read" if method in ("GET", "HEAD") else "write"
        return Reply(
            403,
            {
                "type": "http://ns.adobe.com/aep/errors/ACL-1403-403",
                "title": "Forbidden",
                "status": 403,
                "detail": f"Access denied: the client may not {action} {api} resources in sandbox '{sandbox}'.",
            },
        )
