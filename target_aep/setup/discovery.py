"""What the sandbox already holds, read without changing anything.

Resources are found the way a person would find them: Schema Registry classes, field groups and schemas by
title, the identity namespace by its `code`, datasets by name, the streaming connection by name and its
dataflows by what they connect (HTTP API source of that connection -> that dataset), so a dataflow made by
hand is found too.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_aep.setup.desired import (
    DATA_LAKE_CONNECTION_SPEC,
    HTTP_API_CONNECTION_SPEC,
    ROLES,
    STREAMING_FLOW_SPEC,
    Desired,
)
from target_aep.setup.errors import SetupConfigError, TenantUnreadableError

if t.TYPE_CHECKING:
    from target_aep.setup.platform_api import SetupApi
    from target_aep.xdm.schema_tree import XdmClass

Stored = dict[str, t.Any]


@dataclass
class Found:
    """The sandbox's resources that matter to set-up (stored forms, keyed as `Desired` keys them)."""

    namespaces: list[Stored] = field(default_factory=list)
    record_class: Stored | None = None
    field_group: Stored | None = None
    schemas: dict[XdmClass, Stored | None] = field(default_factory=dict)
    datasets: dict[XdmClass, dict[str, Stored]] = field(default_factory=dict)  # id -> dataset, by name
    connection: Stored | None = None  # the HTTP API base connection, read by id (it carries the inlet)
    source_connections: list[Stored] = field(default_factory=list)
    target_connections: list[Stored] = field(default_factory=list)
    flows: list[Stored] = field(default_factory=list)


def sandbox_tenant(api: SetupApi, configured: str | None) -> str:
    """The sandbox's tenant namespace, from the Schema Registry (the first call: it also proves the sandbox and
    the credential work). A configured ``tenant_id`` must agree with it."""
    stats = api.tenant_stats()
    tenant = stats.get("tenantId")
    if not isinstance(tenant, str) or not tenant:
        raise TenantUnreadableError(
            f"the Schema Registry did not name sandbox '{api.sandbox}''s tenant (stats answered without tenantId): "
            "check that the credential's product profile has 'View Schemas' (Data Modeling) for this sandbox"
        )
    if configured and configured.lstrip("_") != tenant:
        raise SetupConfigError(
            f"tenant_id '{configured}' is not the tenant of sandbox '{api.sandbox}' ('{tenant}'): "
            "remove tenant_id (it is read from the Schema Registry) or correct it"
        )
    return tenant


def discover(api: SetupApi, desired: Desired) -> Found:
    """Read every resource `desired` names (GET requests only)."""
    names = desired.names
    found = Found(namespaces=api.namespaces())
    found.record_class = _registry_resource(api, "classes", names.record_class)
    found.field_group = _registry_resource(api, "fieldgroups", names.field_group)
    for role in ROLES:
        found.schemas[role] = _registry_resource(api, "schemas", desired.schemas[role].title)
        found.datasets[role] = api.datasets_named(desired.datasets[role].name)
    if desired.streaming:
        connections = [
            c
            for c in api.flow_objects("connections", f"connectionSpec.id=={HTTP_API_CONNECTION_SPEC}")
            if c.get("name") == names.streaming_connection and _spec(c, "connectionSpec") == HTTP_API_CONNECTION_SPEC
        ]
        if connections:
            found.connection = api.flow_object("connections", str(connections[0]["id"]))
            found.source_connections = [
                c
                for c in api.flow_objects("sourceConnections", f"connectionSpec.id=={HTTP_API_CONNECTION_SPEC}")
                if _spec(c, "connectionSpec") == HTTP_API_CONNECTION_SPEC
            ]
            found.target_connections = [
                c
                for c in api.flow_objects("targetConnections", f"connectionSpec.id=={DATA_LAKE_CONNECTION_SPEC}")
                if _spec(c, "connectionSpec") == DATA_LAKE_CONNECTION_SPEC
            ]
            found.flows = [
                f
                for f in api.flow_objects("flows", f"flowSpec.id=={STREAMING_FLOW_SPEC}")
                if _spec(f, "flowSpec") == STREAMING_FLOW_SPEC
            ]
    return found


def _registry_resource(api: SetupApi, kind: str, title: str) -> Stored | None:
    """The tenant resource titled ``title`` in its stored form, or None (titles are unique per sandbox)."""
    matches = api.find_resources(kind, title)
    if not matches:
        return None
    resource_id = str(matches[0].get("meta:altId") or matches[0]["$id"])
    stored = api.resource(kind, resource_id)
    stored.setdefault("$id", matches[0].get("$id"))
    return stored


def _spec(item: Stored, key: str) -> str:
    spec = item.get(key)
    return str(spec.get("id", "")) if isinstance(spec, dict) else ""


def inlet_of(connection: Stored | None) -> str | None:
    """The streaming inlet id of an HTTP API connection (`auth.params.inletId`)."""
    params = ((connection or {}).get("auth") or {}).get("params") or {}
    inlet = params.get("inletId") if isinstance(params, dict) else None
    return str(inlet) if inlet else None


def flow_for_dataset(found: Found, connection_id: str, dataset_id: str) -> Stored | None:
    """A dataflow from the HTTP API connection ``connection_id`` into dataset ``dataset_id``, if one exists."""
    sources = {
        str(c.get("id")) for c in found.source_connections if c.get("baseConnectionId") == connection_id and c.get("id")
    }
    targets = {
        str(c.get("id"))
        for c in found.target_connections
        if ((c.get("params") or {}).get("dataSetId") == dataset_id) and c.get("id")
    }
    for flow in found.flows:
        if sources & set(flow.get("sourceConnectionIds") or []) and targets & set(
            flow.get("targetConnectionIds") or []
        ):
            return flow
    return None
