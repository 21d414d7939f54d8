"""Sandboxes: every Platform resource lives in one, chosen per request by ``x-sandbox-name``.

The emulator knows a fixed set of sandboxes (``--sandboxes``, default ``prod``); any other name is refused. A
sandbox starts empty: Adobe's standard classes and field groups, the standard identity namespaces, nothing of the
tenant. ``--sandbox-preset stripe`` provisions the first sandbox as the project's tests, bench and demo expect it:
the three datasets of ``xdm/`` with fixed ids, their schemas, field group and class, the ``StripeCustomerId``
namespace, and the fixed authenticated inlet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from emulators.aep.catalog import Catalog, Dataset
from emulators.aep.config import DATASET_SCHEMA_FILES, INLET_ID, PRESET_NAMESPACE, PRESET_STRIPE, TENANT_ID
from emulators.aep.descriptors import Descriptors
from emulators.aep.flow_service import FlowService, Inlet
from emulators.aep.identity import IdentityNamespaces
from emulators.aep.schema_registry import SchemaRegistry
from emulators.aep.xdm_library import PRESET_SCHEMA_FILES, preset_stripe

PRESETS = (PRESET_STRIPE,)
_PRESET_CREATED_MS = 1700000000000


@dataclass
class Sandbox:
    name: str
    id: str
    type: str  # "production" or "development"
    registry: SchemaRegistry
    catalog: Catalog
    identity: IdentityNamespaces
    flows: FlowService
    descriptors: Descriptors


def new_sandbox(name: str) -> Sandbox:
    sandbox_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aep-emulator/sandbox/{name}"))
    sandbox_type = "production" if name == "prod" else "development"
    registry = SchemaRegistry(TENANT_ID, name, sandbox_id, sandbox_type)
    catalog = Catalog(registry, sandbox_id)

    def dataset_schema(dataset_id: str) -> str | None:
        dataset = catalog.dataset(dataset_id)
        return dataset.schema_id if dataset else None

    flows = FlowService(name, sandbox_id, dataset_schema)
    identity = IdentityNamespaces()
    descriptors = Descriptors(registry, identity.knows)
    return Sandbox(name, sandbox_id, sandbox_type, registry, catalog, identity, flows, descriptors)


def provision_stripe(sandbox: Sandbox) -> None:
    """The stripe preset: what a pre-provisioned organization holds (ids from ``xdm/`` and docs/architecture.md)."""
    record_class, field_group, schemas = preset_stripe(TENANT_ID)
    sandbox.registry.add_preset(record_class, field_group, schemas)
    schema_ids = {file_name: schema.body["$id"] for file_name, schema in zip(PRESET_SCHEMA_FILES, schemas, strict=True)}
    for dataset_id, (name, file_name) in DATASET_SCHEMA_FILES.items():
        sandbox.catalog.add_preset(
            Dataset(
                id=dataset_id,
                name=name,
                schema_id=schema_ids[file_name],
                created_ms=_PRESET_CREATED_MS,
                updated_ms=_PRESET_CREATED_MS,
            )
        )
    sandbox.identity.create(dict(PRESET_NAMESPACE))
    sandbox.flows.add_preset_inlet(INLET_ID, "Stripe streaming connection (preset)")


class SandboxDirectory:
    """The known sandboxes, by name; and lookups across them for DCS (which has no sandbox header)."""

    def __init__(self, names: list[str], preset: str | None = None) -> None:
        if not names:
            raise ValueError("at least one sandbox is needed")
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"unknown sandbox preset {preset!r} (known: {', '.join(PRESETS)})")
        self._sandboxes = {name: new_sandbox(name) for name in names}
        if preset == PRESET_STRIPE:
            provision_stripe(self._sandboxes[names[0]])

    @property
    def names(self) -> list[str]:
        return list(self._sandboxes)

    def get(self, name: str) -> Sandbox | None:
        return self._sandboxes.get(name)

    def inlet(self, inlet_id: str) -> tuple[Sandbox, Inlet] | None:
        for sandbox in self._sandboxes.values():
            inlet = sandbox.flows.inlet(inlet_id)
            if inlet is not None:
                return sandbox, inlet
        return None

    def dataset(self, dataset_id: str) -> tuple[Sandbox, Dataset] | None:
        for sandbox in self._sandboxes.values():
            dataset = sandbox.catalog.dataset(dataset_id)
            if dataset is not None:
                return sandbox, dataset
        return None
