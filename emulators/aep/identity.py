"""Identity Service namespaces of one sandbox: Adobe's standard ones, and custom ones created by ``code``.

``POST /data/core/idnamespace/identities`` takes ``name``, ``code`` (letters and digits, unique regardless of case)
and ``idType`` (``Cookie``, ``Cross_device``, ``Device``, ``Email``, ``Mobile``, ``Non_people``, ``Phone``, any
case) and answers 200 with the namespace; ``idType`` comes back upper-case (``CROSS_DEVICE``), as the listing
shows it. Errors carry the service's ``namespacevalidation`` problem body.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from emulators.aep.replies import Reply

_ID_TYPES = ("COOKIE", "CROSS_DEVICE", "DEVICE", "EMAIL", "MOBILE", "NON_PEOPLE", "PHONE")
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_PROBLEM_TYPE = "http://ns.adobe.com/adobecloud/problem/namespacevalidation"
_FIRST_CUSTOM_ID = 10018776
_CREATED = 1551688425455  # the standard namespaces' createTime, as Adobe lists them

# (id, code, name, idType, description): the standard namespaces every organization has.
_STANDARD = (
    (0, "CORE", "CORE", "COOKIE", "Adobe Audience Manager UUID"),
    (4, "ECID", "ECID", "COOKIE", "Adobe Experience Cloud ID"),
    (6, "Email", "Email", "EMAIL", "Email"),
    (7, "Phone", "Phone", "PHONE", "Phone"),
    (9, "TNTID", "TNTID", "COOKIE", "Adobe Target ID"),
    (10, "AAID", "AAID", "COOKIE", "Adobe Analytics (legacy ID)"),
    (11, "Email_LC_SHA256", "Emails (SHA256, lowercased)", "EMAIL", "Hashed lower-case email addresses"),
    (411, "AdCloud", "AdCloud", "COOKIE", "Adobe Advertising Cloud ID"),
    (20914, "GAID", "Google Ad ID (GAID)", "DEVICE", "Google Advertising ID"),
    (20915, "IDFA", "Apple IDFA (ID for Advertisers)", "DEVICE", "Apple ID for Advertisers"),
)


def _problem(status: int, title: str, code: str, description: str) -> Reply:
    return Reply(
        status,
        {
            "type": _PROBLEM_TYPE,
            "status": status,
            "title": title,
            "report": {"code": code},
            "description": description,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        },
    )


class IdentityNamespaces:
    def __init__(self) -> None:
        self._namespaces: dict[int, dict[str, Any]] = {}
        self._next_id = _FIRST_CUSTOM_ID
        self._lock = threading.Lock()
        for ns_id, code, name, id_type, description in _STANDARD:
            self._namespaces[ns_id] = {
                "id": ns_id,
                "code": code,
                "name": name,
                "description": description,
                "idType": id_type,
                "status": "ACTIVE",
                "custom": False,
                "namespaceType": "Standard",
                "createTime": _CREATED,
                "updateTime": _CREATED,
            }

    def list(self) -> Reply:
        """``GET /idnamespace/identities``: every namespace, standard and custom."""
        with self._lock:
            return Reply(200, [dict(ns) for ns in self._namespaces.values()])

    def get(self, ns_id: str) -> Reply:
        """``GET /idnamespace/identities/{id}``."""
        with self._lock:
            found = self._namespaces.get(int(ns_id)) if ns_id.isdigit() else None
        if found is None:
            reply = _problem(
                404, "Namespace validation", "NAMESPACE_NOT_FOUND", "Namespace id not found for given IMS Org"
            )
            reply.body["error"] = "NAMESPACE_NOT_FOUND"
            return reply
        return Reply(200, dict(found))

    def create(self, body: Any) -> Reply:
        """``POST /idnamespace/identities``: 200 with the new namespace, 400 for bad fields, 409 for a taken code."""
        if not isinstance(body, dict):
            return _problem(400, "Namespace validation", "INVALID_REQUEST_PARAMS", "The body must be a JSON object")
        missing = [key for key in ("name", "code", "idType") if not isinstance(body.get(key), str) or not body[key]]
        if missing:
            return _problem(
                400,
                "Namespace validation",
                "INVALID_REQUEST_PARAMS",
                f"Missing required field(s): {', '.join(missing)}",
            )
        id_type = body["idType"].upper()
        if id_type not in _ID_TYPES:
            return _problem(
                400,
                "Namespace validation",
                "INVALID_REQUEST_PARAMS",
                f"Please provide a valid value of idType. Valid values are: [{', '.join(_ID_TYPES)}]",
            )
        if not _CODE.match(body["code"]):
            return _problem(
                400, "Namespace validation", "INVALID_REQUEST_PARAMS", "code may contain only letters and numbers"
            )
        unknown = sorted(set(body) - {"name", "code", "idType", "description"})
        if unknown:
            return _problem(400, "Namespace validation", "INVALID_REQUEST_PARAMS", f"Unknown field(s): {unknown}")
        with self._lock:
            if any(ns["code"].lower() == body["code"].lower() for ns in self._namespaces.values()):
                return _problem(
                    409,
                    "NAMESPACE_CODE_CONFLICT",
                    "INTEGRATION_CODE_EXISTS",
                    "Namespace code already exists. Please use a different code",
                )
            now = int(time.time() * 1000)
            namespace = {
                "id": self._next_id,
                "code": body["code"],
                "name": body["name"],
                "description": str(body.get("description", "")),
                "idType": id_type,
                "status": "ACTIVE",
                "custom": True,
                "createTime": now,
                "updateTime": now,
            }
            self._namespaces[self._next_id] = namespace
            self._next_id += 1
            return Reply(200, dict(namespace))

    def knows(self, code_or_id: str) -> bool:
        """True for the ``code`` (or numeric ``id``) of a namespace of this sandbox."""
        with self._lock:
            return any(code_or_id in (ns["code"], str(ns["id"])) for ns in self._namespaces.values())
