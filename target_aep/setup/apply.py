"""Carry a plan out, step by step, in order (a schema needs its field group, a dataset its schema, ...).

Only steps that create or change something make requests, so applying a plan whose steps all exist writes
nothing. Each write is recorded as it succeeds: if a step fails half-way, `ApplyStopped` says what this run made
(it stays in the sandbox, and the next run finds and reuses it) and what is left to do.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from dataclasses import dataclass, field

from target_aep.setup.desired import (
    DATA_LAKE_CONNECTION_SPEC,
    HTTP_API_CONNECTION_SPEC,
    PROFILE_DATASET_TAGS,
    RECORD_BEHAVIOR,
    STREAMING_FLOW_SPEC,
    XED_FULL_CONTENT_TYPE,
    Desired,
)
from target_aep.setup.discovery import inlet_of
from target_aep.setup.field_group import field_group_body
from target_aep.setup.plan import Action, Pending, Plan, Step, resolve
from target_aep.xdm.schema_tree import EVENT_CLASS, PROFILE_CLASS

if t.TYPE_CHECKING:
    from target_aep.setup.platform_api import SetupApi
    from target_aep.xdm.schema_tree import XdmClass


class ApplyStopped(Exception):
    """A step failed: what was made before it, and what is left to do."""

    def __init__(self, step: Step, cause: Exception, made: list[str], left: list[Step]) -> None:
        super().__init__(str(cause))
        self.step = step
        self.cause = cause
        self.made = made
        self.left = left


@dataclass
class Applied:
    """The ids of every resource the plan names (existing or made now), and what this run made."""

    ids: dict[str, str] = field(default_factory=dict)
    made: list[str] = field(default_factory=list)

    def dataset_id(self, role: XdmClass) -> str | None:
        return self.ids.get(f"dataset:{role}")

    @property
    def inlet_id(self) -> str | None:
        return self.ids.get("inlet")


def known_ids(plan: Plan, found_inlet: str | None = None) -> Applied:
    """The ids of what exists already (all a plan without `--apply` can tell)."""
    applied = Applied()
    for step in plan.steps:
        if step.resource_id and step.action in (Action.EXISTS, Action.CHANGE, Action.LEAVE) and not step.blocking:
            applied.ids[step.key] = step.resource_id
    if found_inlet and "connection" in applied.ids:
        applied.ids["inlet"] = found_inlet
    return applied


def apply_plan(
    plan: Plan, desired: Desired, api: SetupApi, applied: Applied, report: Callable[[str], None] = print
) -> Applied:
    """Create and change what the plan says, in order; ``report`` gets one line per change."""
    builders = _Builders(desired, api, applied, report)
    todo = [s for s in plan.steps if s.to_do]
    for index, step in enumerate(todo):
        try:
            if step.action == Action.CHANGE:
                builders.change(step)
            else:
                builders.create(step)
        except Exception as exc:
            raise ApplyStopped(step, exc, list(applied.made), todo[index:]) from exc
    return applied


class _Builders:
    """One method per kind of resource: the request bodies, built from `Desired` and the ids known so far."""

    def __init__(self, desired: Desired, api: SetupApi, applied: Applied, report: Callable[[str], None]) -> None:
        self.desired = desired
        self.api = api
        self.applied = applied
        self.report = report

    def _made(self, step_kind: str, name: str, resource_id: str, verb: str = "created") -> None:
        line = f"{verb} {step_kind} '{name}' ({resource_id})"
        self.applied.made.append(line)
        self.report(f"  {line}")

    def _ref(self, value: t.Any) -> t.Any:
        return resolve(value, self.applied.ids)

    def change(self, step: Step) -> None:
        assert step.resource_id is not None
        ops = self._ref(step.ops)
        if step.key.startswith("dataset:"):
            self.api.patch_dataset(step.resource_id, ops, what=f"change dataset '{step.name}'")
        else:
            kind = "fieldgroups" if step.key == "field_group" else "schemas"
            self.api.patch_resource(kind, step.resource_id, ops, what=f"change {step.kind} '{step.name}'")
        self.applied.ids[step.key] = step.resource_id
        self._made(step.kind, step.name, step.resource_id, verb="changed")
        for change in step.changes:
            self.report(f"      + {change}")

    def create(self, step: Step) -> None:
        kind, _, role = step.key.partition(":")
        build = {
            "namespace": self.namespace,
            "class": self.record_class,
            "field_group": self.field_group,
            "schema": self.schema,
            "profile": self.profile,
            "dataset": self.dataset,
            "connection": self.connection,
            "flow": self.flow,
        }[kind]
        resource_id = build(step, role)
        self.applied.ids[step.key] = resource_id
        if kind != "flow":  # a dataflow reports its three parts itself
            self._made(step.kind, step.name, resource_id, verb="enabled" if kind == "profile" else "created")

    def namespace(self, step: Step, _role: str) -> str:
        spec = self.desired.namespace
        self.api.create_namespace(
            {"name": spec.name, "code": spec.code, "idType": spec.id_type, "description": spec.description}
        )
        return spec.code

    def record_class(self, step: Step, _role: str) -> str:
        body = {
            "title": step.name,
            "description": self.desired.record_class_description,
            "type": "object",
            "allOf": [{"$ref": RECORD_BEHAVIOR}],
        }
        return str(self.api.create_resource("classes", body)["$id"])

    def field_group(self, step: Step, _role: str) -> str:
        classes: list[str | Pending] = [PROFILE_CLASS, EVENT_CLASS]
        if "class" in self.applied.ids:
            classes.append(self.applied.ids["class"])
        body = field_group_body(
            title=step.name,
            description=self.desired.field_group_description,
            tenant=self.desired.tenant,
            class_ids=classes,
        )
        return str(self.api.create_resource("fieldgroups", body)["$id"])

    def schema(self, step: Step, role: str) -> str:
        spec = self.desired.schemas[t.cast("XdmClass", role)]
        parts = [spec.class_id or self.applied.ids["class"], *(ref for ref, _ in spec.field_groups)]
        parts.append(self.applied.ids["field_group"])
        body = {
            "title": spec.title,
            "description": spec.description,
            "type": "object",
            "allOf": [{"$ref": ref} for ref in parts],
        }
        return str(self.api.create_resource("schemas", body)["$id"])

    def profile(self, step: Step, role: str) -> str:
        schema_id = self.applied.ids[f"schema:{role}"]
        self.api.patch_resource("schemas", schema_id, step.ops, what=f"enable schema '{step.name}' for Profile")
        return schema_id

    def dataset(self, step: Step, role: str) -> str:
        spec = self.desired.datasets[t.cast("XdmClass", role)]
        body: dict[str, t.Any] = {
            "name": spec.name,
            "description": spec.description,
            "schemaRef": {"id": self.applied.ids[f"schema:{role}"], "contentType": XED_FULL_CONTENT_TYPE},
        }
        if spec.profile:
            body["tags"] = {tag: list(values) for tag, values in PROFILE_DATASET_TAGS.items()}
        return self.api.create_dataset(body)

    def connection(self, step: Step, _role: str) -> str:
        body = {
            "name": step.name,
            "description": "Stripe records from target-aep (ingestion_mode streaming)",
            "connectionSpec": {"id": HTTP_API_CONNECTION_SPEC, "version": "1.0"},
            "auth": {
                "specName": "Streaming Connection",
                "params": {"sourceId": step.name, "dataType": "xdm", "name": step.name, "authenticationRequired": True},
            },
        }
        connection_id = self.api.create_flow_object("connections", body)
        inlet = inlet_of(self.api.flow_object("connections", connection_id))
        if inlet is None:
            raise RuntimeError(f"streaming connection {connection_id} was created but reports no inletId")
        self.applied.ids["inlet"] = inlet
        return connection_id

    def flow(self, step: Step, role: str) -> str:
        dataset = self.desired.datasets[t.cast("XdmClass", role)]
        dataset_id = self.applied.ids[f"dataset:{role}"]
        source_id = self.api.create_flow_object(
            "sourceConnections",
            {
                "name": f"{dataset.name} (HTTP API source)",
                "description": "Stripe records from target-aep",
                "baseConnectionId": self.applied.ids["connection"],
                "connectionSpec": {"id": HTTP_API_CONNECTION_SPEC, "version": "1.0"},
                "data": {"format": "json"},
            },
        )
        self._made("source connection", f"{dataset.name} (HTTP API source)", source_id)
        target_id = self.api.create_flow_object(
            "targetConnections",
            {
                "name": f"{dataset.name} (dataset target)",
                "description": f"dataset {dataset_id}",
                "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC, "version": "1.0"},
                "data": {
                    "format": "parquet_xdm",
                    "schema": {"id": self.applied.ids[f"schema:{role}"], "version": XED_FULL_CONTENT_TYPE},
                },
                "params": {"dataSetId": dataset_id},
            },
        )
        self._made("target connection", f"{dataset.name} (dataset target)", target_id)
        flow_id = self.api.create_flow_object(
            "flows",
            {
                "name": step.name,
                "description": f"HTTP API inlet -> dataset {dataset_id}",
                "flowSpec": {"id": STREAMING_FLOW_SPEC, "version": "1.0"},
                "sourceConnectionIds": [source_id],
                "targetConnectionIds": [target_id],
            },
        )
        self._made("dataflow", step.name, flow_id)
        return flow_id
