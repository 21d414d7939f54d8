"""Flow Service for the HTTP API streaming source, in one sandbox: base connections (each with its inlet), source
connections, data lake target connections, and dataflows linking an inlet to a dataset.

Only what the HTTP API source needs is emulated: base and source connections use connection spec
``bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb`` (``auth.specName: "Streaming Connection"``, ``params.dataType: "xdm"``),
target connections the data lake spec ``c604ff05-7f1a-43c0-8e18-33bf874cb11c`` with ``params.dataSetId`` and
``data.schema.id``, flows the spec ``d8a6f005-7eaf-4153-983e-e8574508b877`` (no mapping). Creation answers 201
``{"id", "etag"}``; reads answer ``{"items": [...]}``. DCS accepts an XDM message on a created inlet only for a
dataset some flow from that inlet's connection targets (and, with ``header.flowId``, for that flow).
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.aep.config import CLIENT_ID, ORG_ID
from emulators.aep.replies import Reply, problem

HTTP_API_SPEC = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
HTTP_API_FLOW_SPEC = "d8a6f005-7eaf-4153-983e-e8574508b877"
MAPPING_FLOW_SPEC = "c1a19761-d2c7-4702-b9fa-fe91f0613e81"
PUBLIC_DCS = "https://dcs.adobedc.net"

# dataset id -> the dataset's schema $id, or None if the sandbox has no such dataset
DatasetSchema = Callable[[str], str | None]


@dataclass(frozen=True)
class Inlet:
    """A streaming endpoint: which base connection owns it, and whether DCS needs a token."""

    inlet_id: str
    connection_id: str
    authentication_required: bool
    any_dataset: bool = False  # the stripe preset's inlet takes every dataset of its sandbox, with no flow


class FlowService:
    def __init__(self, sandbox_name: str, sandbox_id: str, dataset_schema: DatasetSchema) -> None:
        self.sandbox_name = sandbox_name
        self.sandbox_id = sandbox_id
        self._dataset_schema = dataset_schema
        self._objects: dict[str, dict[str, dict[str, Any]]] = {
            "connections": {},
            "sourceConnections": {},
            "targetConnections": {},
            "flows": {},
        }
        self._inlets: dict[str, Inlet] = {}
        self._lock = threading.Lock()

    # --- used by DCS ----------------------------------------------------------------------------------------------

    def inlet(self, inlet_id: str) -> Inlet | None:
        with self._lock:
            return self._inlets.get(inlet_id)

    def routes_to(self, inlet: Inlet, dataset_id: str, flow_id: str | None) -> str | None:
        """None when the inlet may deliver to the dataset; otherwise why not."""
        if inlet.any_dataset and flow_id is None:
            return None
        with self._lock:
            sources = {
                sid
                for sid, s in self._objects["sourceConnections"].items()
                if s["baseConnectionId"] == inlet.connection_id
            }
            for fid, flow in self._objects["flows"].items():
                if flow_id is not None and fid != flow_id:
                    continue
                if not sources & set(flow["sourceConnectionIds"]):
                    continue
                targets = [self._objects["targetConnections"][t] for t in flow["targetConnectionIds"]]
                if any(t["params"]["dataSetId"] == dataset_id for t in targets):
                    return None
        if flow_id is not None:
            return f"flow {flow_id} does not carry inlet {inlet.inlet_id}'s messages to dataset {dataset_id}"
        return f"no dataflow carries inlet {inlet.inlet_id}'s messages to dataset {dataset_id}"

    def add_preset_inlet(self, inlet_id: str, name: str) -> None:
        """The stripe preset's authenticated inlet (fixed id), usable for any dataset of the sandbox."""
        with self._lock:
            connection = self._connection_item(
                str(uuid.uuid4()),
                {
                    "name": name,
                    "connectionSpec": {"id": HTTP_API_SPEC, "version": "1.0"},
                    "auth": {
                        "specName": "Streaming Connection",
                        "params": {"dataType": "xdm", "authenticationRequired": True},
                    },
                },
                inlet_id,
                PUBLIC_DCS,
            )
            self._objects["connections"][connection["id"]] = connection
            self._inlets[inlet_id] = Inlet(inlet_id, connection["id"], True, any_dataset=True)

    # --- HTTP operations --------------------------------------------------------------------------------------------

    def create(self, collection: str, body: Any, dcs_base_url: str) -> Reply:
        """``POST /{connections|sourceConnections|targetConnections|flows}``: 201 ``{"id", "etag"}``."""
        if not isinstance(body, dict):
            return problem(400, "Bad Request", "the request body must be a JSON object")
        check = {
            "connections": self._check_connection,
            "sourceConnections": self._check_source,
            "targetConnections": self._check_target,
            "flows": self._check_flow,
        }[collection]
        with self._lock:
            refused = check(body)
            if refused:
                return problem(400, "Bad Request", refused)
            object_id = str(uuid.uuid4())
            if collection == "connections":
                inlet_id = secrets.token_hex(32)
                item = self._connection_item(object_id, body, inlet_id, dcs_base_url)
                required = bool(body["auth"]["params"].get("authenticationRequired", False))
                self._inlets[inlet_id] = Inlet(inlet_id, object_id, required)
            else:
                item = self._item(object_id, body)
                if collection == "flows":
                    item["state"] = "enabled"
                    item["inheritedAttributes"] = self._inherited(item)
            self._objects[collection][object_id] = item
            return Reply(201, {"id": object_id, "etag": item["etag"]})

    def get(self, collection: str, object_id: str) -> Reply:
        """``GET /{collection}/{id}``: ``{"items": [the object]}``, or 404."""
        with self._lock:
            item = self._objects[collection].get(object_id)
        if item is None:
            return problem(
                404, "Not Found", f"{collection[:-1]} {object_id} does not exist in sandbox {self.sandbox_name}"
            )
        return Reply(200, {"items": [copy.deepcopy(item)]})

    def list(self, collection: str, query: dict[str, list[str]]) -> Reply:
        """``GET /{collection}?property=a.b==x`` (``==``, ``!=``; on a list, "contains"), ``limit``, ``count``."""
        conditions = [part for v in query.get("property", []) for part in v.split(",") if part.strip()]
        with self._lock:
            items = [copy.deepcopy(i) for i in self._objects[collection].values()]
        for condition in conditions:
            items = [i for i in items if _holds(i, condition)]
        items.sort(key=lambda i: i["createdAt"])
        try:
            limit = int((query.get("limit") or ["100"])[0])
        except ValueError:
            return problem(400, "Bad Request", "limit must be an integer")
        body: dict[str, Any] = {"items": items[:limit], "_links": {}}
        if (query.get("count") or ["false"])[0].lower() == "true":
            body["count"] = len(items)
        return Reply(200, body)

    # --- checks --------------------------------------------------------------------------------------------------

    def _check_connection(self, body: dict[str, Any]) -> str | None:
        spec = _spec_problem(body.get("connectionSpec"), HTTP_API_SPEC, "connectionSpec")
        if spec:
            return spec
        if not isinstance(body.get("name"), str) or not body["name"]:
            return "a base connection needs a 'name'"
        auth = body.get("auth")
        if not isinstance(auth, dict) or auth.get("specName") != "Streaming Connection":
            return "auth.specName must be 'Streaming Connection' for the HTTP API source"
        params = auth.get("params")
        if not isinstance(params, dict) or params.get("dataType") != "xdm":
            return "auth.params.dataType must be 'xdm' (raw data is not emulated)"
        if not isinstance(params.get("authenticationRequired", False), bool):
            return "auth.params.authenticationRequired must be a boolean"
        return None

    def _check_source(self, body: dict[str, Any]) -> str | None:
        spec = _spec_problem(body.get("connectionSpec"), HTTP_API_SPEC, "connectionSpec")
        if spec:
            return spec
        if not isinstance(body.get("name"), str) or not body["name"]:
            return "a source connection needs a 'name'"
        if body.get("baseConnectionId") not in self._objects["connections"]:
            return f"baseConnectionId {body.get('baseConnectionId')!r} is not a base connection in this sandbox"
        return None

    def _check_target(self, body: dict[str, Any]) -> str | None:
        spec = _spec_problem(body.get("connectionSpec"), DATA_LAKE_SPEC, "connectionSpec")
        if spec:
            return spec
        dataset_id = (body.get("params") or {}).get("dataSetId") if isinstance(body.get("params"), dict) else None
        schema_id = self._dataset_schema(dataset_id) if isinstance(dataset_id, str) else None
        if schema_id is None:
            return f"params.dataSetId {dataset_id!r} is not a dataset in this sandbox"
        schema = ((body.get("data") or {}).get("schema") or {}) if isinstance(body.get("data"), dict) else {}
        if not isinstance(schema, dict) or schema.get("id") != schema_id:
            return f"data.schema.id must be the dataset's schema ({schema_id})"
        return None

    def _check_flow(self, body: dict[str, Any]) -> str | None:
        spec = body.get("flowSpec")
        if isinstance(spec, dict) and spec.get("id") == MAPPING_FLOW_SPEC:
            return "flows with mapping transformations are not emulated; use flow spec " + HTTP_API_FLOW_SPEC
        problem_text = _spec_problem(spec, HTTP_API_FLOW_SPEC, "flowSpec")
        if problem_text:
            return problem_text
        if not isinstance(body.get("name"), str) or not body["name"]:
            return "a flow needs a 'name'"
        sources, targets = body.get("sourceConnectionIds"), body.get("targetConnectionIds")
        if not isinstance(sources, list) or len(sources) != 1 or sources[0] not in self._objects["sourceConnections"]:
            return "sourceConnectionIds must hold one source connection of this sandbox"
        if (
            not isinstance(targets, list)
            or not targets
            or any(t not in self._objects["targetConnections"] for t in targets)
        ):
            return "targetConnectionIds must hold target connections of this sandbox"
        return None

    # --- items ---------------------------------------------------------------------------------------------------

    def _item(self, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {
            "id": object_id,
            **copy.deepcopy(body),
            "createdAt": now,
            "updatedAt": now,
            "createdBy": f"{CLIENT_ID}@AdobeID",
            "updatedBy": f"{CLIENT_ID}@AdobeID",
            "createdClient": CLIENT_ID,
            "updatedClient": CLIENT_ID,
            "sandboxId": self.sandbox_id,
            "sandboxName": self.sandbox_name,
            "imsOrgId": ORG_ID,
            "etag": f'"{uuid.uuid4()}"',
        }

    def _connection_item(self, object_id: str, body: dict[str, Any], inlet_id: str, dcs_base: str) -> dict[str, Any]:
        item = self._item(object_id, body)
        params = item["auth"]["params"]
        params.setdefault("sourceId", body["name"])
        params.setdefault("name", body["name"])
        params.setdefault("authenticationRequired", False)
        params["inletId"] = inlet_id
        params["inletUrl"] = f"{dcs_base.rstrip('/')}/collection/{inlet_id}"
        item["state"] = "enabled"
        item["version"] = item["etag"]
        return item

    def _inherited(self, flow: dict[str, Any]) -> dict[str, Any]:
        sources = []
        for sid in flow["sourceConnectionIds"]:
            source = self._objects["sourceConnections"][sid]
            base = self._objects["connections"][source["baseConnectionId"]]
            sources.append(
                {
                    "id": sid,
                    "connectionSpec": source["connectionSpec"],
                    "baseConnection": {"id": base["id"], "connectionSpec": base["connectionSpec"]},
                }
            )
        targets = [
            {"id": tid, "connectionSpec": self._objects["targetConnections"][tid]["connectionSpec"]}
            for tid in flow["targetConnectionIds"]
        ]
        return {"sourceConnections": sources, "targetConnections": targets}


def _spec_problem(spec: Any, expected: str, name: str) -> str | None:
    if not isinstance(spec, dict) or not spec.get("id") or not spec.get("version"):
        return f"{name} needs 'id' and 'version'"
    if spec["id"] != expected:
        return f"{name}.id {spec['id']} is not supported here (expected {expected})"
    return None


def _holds(item: dict[str, Any], condition: str) -> bool:
    for operator in ("!=", "=="):
        if operator in condition:
            key, value = condition.split(operator, 1)
            actual: Any = item
            for part in key.strip().split("."):
                actual = actual.get(part) if isinstance(actual, dict) else None
            found = value in actual if isinstance(actual, list) else actual is not None and str(actual) == value
            return found if operator == "==" else not found
    return False
