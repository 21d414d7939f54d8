"""Desired vs. found -> the plan. Pure: no requests.

Rules, from AEP's schema evolution and Catalog rules:
- what is missing is created; what exists is reused, found by title, code or name;
- an existing resource may only grow: fields and field groups are added, tags switched on;
- what would need a destructive change (retyping a field, changing a schema's class or a dataset's schema)
  is reported and left alone; when target-aep cannot work without it, the step blocks and the sandbox is not
  ready until a person decides (the message says how, usually another title or name).
"""

from __future__ import annotations

import typing as t

from target_aep.setup.desired import PROFILE_ROLES, RECORD_BEHAVIOR, ROLES, Desired
from target_aep.setup.discovery import Found, flow_for_dataset, inlet_of
from target_aep.setup.field_group import compare_field_group
from target_aep.setup.plan import Action, Pending, Plan, Step
from target_aep.xdm.schema_tree import EVENT_CLASS, PROFILE_CLASS
from target_aep.xdm.stripe_fields import TENANT_FIELDS

if t.TYPE_CHECKING:
    from target_aep.xdm.schema_tree import XdmClass

_NAME_FLAGS = {
    "class": "--record-class-title",
    "schema:profile": "--profile-schema-title",
    "schema:experienceevent": "--event-schema-title",
    "schema:record": "--record-schema-title",
    "dataset:profile": "--profile-dataset-name",
    "dataset:experienceevent": "--event-dataset-name",
    "dataset:record": "--record-dataset-name",
}


def make_plan(desired: Desired, found: Found, *, sandbox: str, org_id: str) -> Plan:
    """Every step target-aep needs, in the order `apply` carries them out."""
    record_class = _record_class(desired, found)
    steps = [_namespace(desired, found), record_class, _field_group(desired, found, record_class)]
    schemas = {role: _schema(desired, found, role) for role in ROLES}
    steps += schemas.values()
    steps += [_schema_profile(desired, found, role) for role in PROFILE_ROLES]
    datasets = {role: _dataset(desired, found, role, schemas[role]) for role in ROLES}
    steps += datasets.values()
    if desired.streaming:
        connection = _connection(desired, found)
        steps.append(connection)
        steps += [_flow(desired, found, role, datasets[role], connection) for role in ROLES]
    _block_dependents(steps)
    return Plan(sandbox=sandbox, org_id=org_id, tenant=desired.tenant, steps=steps)


def _id_or_pending(step: Step) -> str | Pending:
    """The step's resource id when it exists already, else the id its creation will produce."""
    if step.resource_id and step.action != Action.CREATE:
        return step.resource_id
    return Pending(step.key)


def _block_dependents(steps: list[Step]) -> None:
    """A step that refers to a resource left alone for good cannot happen either: say so on it."""
    blocked: dict[str, Step] = {}
    for step in steps:
        if step.blocking:
            blocked[step.key] = step
            continue
        cause = next((blocked[k] for k in step.needs if k in blocked), None)
        if cause is not None and step.to_do:
            step.action = Action.LEAVE
            step.blocking = True
            step.left_alone.append(f"needs {cause.kind} '{cause.name}', which is left alone (see above)")
            step.ops = []
            blocked[step.key] = step


# -- identity namespace


def _namespace(desired: Desired, found: Found) -> Step:
    spec = desired.namespace
    step = Step("namespace", "identity namespace", spec.code, Action.CREATE, f"idType {spec.id_type}, '{spec.name}'")
    same = [n for n in found.namespaces if n.get("code") == spec.code]
    if same:
        existing = same[0]
        id_type = str(existing.get("idType", ""))
        step.resource_id = spec.code
        if _id_type_key(id_type) == _id_type_key(spec.id_type):
            step.action = Action.EXISTS
            step.summary = f"idType {id_type}, '{existing.get('name', '')}'"
        else:
            step.action, step.blocking = Action.LEAVE, True
            step.summary = f"the code is taken by a namespace of type {id_type} ('{existing.get('name', '')}')"
            step.left_alone.append(
                f"namespaces cannot be changed or deleted: set customer_identity_namespace to another code "
                f"(letters and digits) for Stripe customer ids ({spec.id_type}), then run target-aep-setup again"
            )
        return step
    other_case = [n for n in found.namespaces if str(n.get("code", "")).lower() == spec.code.lower()]
    if other_case:
        code = str(other_case[0].get("code"))
        step.action, step.blocking = Action.LEAVE, True
        step.summary = f"the sandbox has '{code}', which differs only in case"
        step.left_alone.append(
            f"set customer_identity_namespace to '{code}' (identityMap keys must match it exactly), then run again"
        )
    return step


def _id_type_key(id_type: str) -> str:
    """`Cross_device` and `CROSS_DEVICE` (how Identity Service lists it) are the same type."""
    return id_type.replace("_", "").replace("-", "").upper()


# -- Schema Registry


def _extends(stored: dict[str, t.Any]) -> set[str]:
    """Everything a stored resource is made of: `meta:extends` and the `$ref`s of its `allOf`."""
    refs = {str(r) for r in stored.get("meta:extends") or []}
    refs |= {str(part.get("$ref")) for part in stored.get("allOf") or [] if isinstance(part, dict) and "$ref" in part}
    return refs


def _record_class(desired: Desired, found: Found) -> Step:
    title = desired.names.record_class
    step = Step("class", "class", title, Action.CREATE, "custom class, record behavior (for catalog lookups)")
    stored = found.record_class
    if stored is None:
        return step
    step.resource_id = str(stored.get("$id"))
    if RECORD_BEHAVIOR in _extends(stored):
        step.action, step.summary = Action.EXISTS, step.resource_id
        return step
    step.action, step.blocking = Action.LEAVE, True
    step.summary = f"{step.resource_id} does not have the record behavior"
    step.left_alone.append(f"a class cannot change behavior: choose another title with {_NAME_FLAGS['class']}")
    return step


def _field_group(desired: Desired, found: Found, record_class: Step) -> Step:
    tenant = desired.tenant
    classes: list[str | Pending] = [PROFILE_CLASS, EVENT_CLASS]
    if not record_class.blocking:
        classes.append(_id_or_pending(record_class))
    title = desired.names.field_group
    step = Step(
        "field_group",
        "field group",
        title,
        Action.CREATE,
        f"_{tenant}.stripe with {len(TENANT_FIELDS)} fields, for Individual Profile, ExperienceEvent and "
        f"{desired.names.record_class}",
        needs=("class",),
    )
    stored = found.field_group
    if stored is None:
        return step
    step.resource_id = str(stored.get("$id"))
    changes = compare_field_group(stored, tenant, classes)
    step.summary = step.resource_id
    if changes.missing:
        step.changes.append(f"add {len(changes.missing)} field(s) to _{tenant}.stripe: {', '.join(changes.missing)}")
    if changes.missing_classes:
        shown = [c if isinstance(c, str) else desired.names.record_class for c in changes.missing_classes]
        step.changes.append(f"let it extend {', '.join(shown)}")
    step.left_alone += [f"{r} (retyping a field is a destructive change)" for r in changes.retyped]
    if changes.extra:
        step.summary += f"; keeps {len(changes.extra)} field(s) the mapping does not fill: {', '.join(changes.extra)}"
    step.ops = changes.ops
    step.action = Action.CHANGE if changes.ops else Action.EXISTS
    return step


def _schema(desired: Desired, found: Found, role: XdmClass) -> Step:
    spec = desired.schemas[role]
    field_group: Pending | str = Pending("field_group")
    parts = [spec.class_label, *(label for _, label in spec.field_groups), desired.names.field_group]
    step = Step(
        f"schema:{role}",
        "schema",
        spec.title,
        Action.CREATE,
        " + ".join(parts),
        needs=("field_group",) if spec.class_id else ("class", "field_group"),
    )
    stored = found.schemas.get(role)
    if stored is None:
        return step
    step.resource_id = str(stored.get("$id"))
    step.summary = step.resource_id
    have = _extends(stored)
    declared_class = stored.get("meta:class")
    wanted_class = spec.class_id or (found.record_class or {}).get("$id")
    if wanted_class and (declared_class != wanted_class if declared_class else wanted_class not in have):
        step.action, step.blocking = Action.LEAVE, True
        step.summary = f"{step.resource_id} is of class {declared_class or 'another class'}, not {spec.class_label}"
        step.left_alone.append(f"a schema's class cannot be changed: choose another title with {_NAME_FLAGS[step.key]}")
        return step
    if not wanted_class:  # the record class is being created: an existing schema cannot be of it
        step.action, step.blocking = Action.LEAVE, True
        step.summary = f"{step.resource_id} is not of class {spec.class_label}"
        step.left_alone.append(f"choose another title with {_NAME_FLAGS[step.key]}")
        return step
    tenant_group = found.field_group.get("$id") if found.field_group else None
    field_group = str(tenant_group) if tenant_group else field_group
    wanted = [*spec.field_groups, (field_group, desired.names.field_group)]
    missing = [(ref, label) for ref, label in wanted if isinstance(ref, Pending) or ref not in have]
    for ref, _ in missing:
        step.ops.append({"op": "add", "path": "/allOf/-", "value": {"$ref": ref}})
        step.ops.append({"op": "add", "path": "/meta:extends/-", "value": ref})
    if missing:
        step.changes.append(f"add field group(s): {', '.join(label for _, label in missing)}")
    step.action = Action.CHANGE if missing else Action.EXISTS
    return step


def _schema_profile(desired: Desired, found: Found, role: XdmClass) -> Step:
    spec = desired.schemas[role]
    step = Step(
        f"profile:{role}",
        "Profile",
        spec.title,
        Action.CREATE,
        "enable the schema for Profile (union tag; AEP cannot undo it)",
        needs=(f"schema:{role}",),
    )
    stored = found.schemas.get(role) or {}
    tags = stored.get("meta:immutableTags")
    if isinstance(tags, list) and "union" in tags:
        step.action, step.summary = Action.EXISTS, "schema enabled for Profile"
        return step
    if not desired.profile:
        step.action, step.summary = Action.LEAVE, "not enabled for Profile (--no-profile)"
        return step
    step.resource_id = str(stored["$id"]) if stored.get("$id") else None
    if isinstance(tags, list):
        step.ops = [{"op": "add", "path": "/meta:immutableTags/-", "value": "union"}]
    else:
        step.ops = [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}]
    return step


# -- Catalog


def _profile_tags_missing(dataset: dict[str, t.Any]) -> list[str]:
    found = dataset.get("tags")
    tags: dict[str, t.Any] = found if isinstance(found, dict) else {}
    return [
        tag
        for tag in ("unifiedProfile", "unifiedIdentity")
        if not any(str(v).replace(" ", "") == "enabled:true" for v in tags.get(tag) or [])
    ]


def _dataset(desired: Desired, found: Found, role: XdmClass, schema: Step) -> Step:
    spec = desired.datasets[role]
    streams = ", ".join(spec.streams) if len(spec.streams) <= 6 else f"{len(spec.streams)} streams"
    profile = " enabled for Profile," if spec.profile else ""
    step = Step(
        f"dataset:{role}",
        "dataset",
        spec.name,
        Action.CREATE,
        f"schema '{desired.schemas[role].title}',{profile} for {streams}",
        needs=(f"schema:{role}", f"profile:{role}") if spec.profile else (f"schema:{role}",),
    )
    candidates = found.datasets.get(role) or {}
    if not candidates:
        return step
    schema_id = schema.resource_id if schema.action != Action.CREATE else None
    usable = [
        (dataset_id, d) for dataset_id, d in candidates.items() if (d.get("schemaRef") or {}).get("id") == schema_id
    ]
    if not usable:
        dataset_id, other = next(iter(candidates.items()))
        step.action, step.blocking, step.resource_id = Action.LEAVE, True, dataset_id
        step.summary = f"{dataset_id} has schema {(other.get('schemaRef') or {}).get('id', 'none')}"
        step.left_alone.append(
            f"a dataset's schema cannot be changed: choose another name with {_NAME_FLAGS[step.key]}"
        )
        return step
    dataset_id, dataset = usable[0]
    step.resource_id, step.summary = dataset_id, dataset_id
    if len(candidates) > 1:
        step.summary += f" ({len(candidates)} datasets have this name; this one has the schema)"
    missing = _profile_tags_missing(dataset) if spec.profile else []
    if missing:
        has_tags = isinstance(dataset.get("tags"), dict)
        for tag in missing:
            if has_tags:
                step.ops.append({"op": "add", "path": f"/tags/{tag}", "value": ["enabled:true"]})
            else:
                step.ops.append({"op": "add", "path": "/tags", "value": {}})
                has_tags = True
                step.ops.append({"op": "add", "path": f"/tags/{tag}", "value": ["enabled:true"]})
        step.changes.append(f"enable for Profile ({', '.join(missing)} tags)")
    step.action = Action.CHANGE if step.ops else Action.EXISTS
    return step


# -- Flow Service


def _connection(desired: Desired, found: Found) -> Step:
    name = desired.names.streaming_connection
    step = Step("connection", "streaming connection", name, Action.CREATE, "HTTP API, authenticated, XDM")
    if found.connection is None:
        return step
    step.resource_id = str(found.connection.get("id"))
    step.action = Action.EXISTS
    inlet = inlet_of(found.connection)
    step.summary = f"{step.resource_id}, inlet {inlet}"
    if inlet is None:
        step.action, step.blocking = Action.LEAVE, True
        step.summary = f"{step.resource_id} has no inlet id"
        step.left_alone.append("choose another name with --streaming-connection-name")
    return step


def _flow(desired: Desired, found: Found, role: XdmClass, dataset: Step, connection: Step) -> Step:
    name = f"{desired.datasets[role].name} (HTTP API)"
    step = Step(
        f"flow:{role}",
        "dataflow",
        name,
        Action.CREATE,
        f"HTTP API inlet -> dataset '{desired.datasets[role].name}'",
        needs=("connection", f"dataset:{role}"),
    )
    if connection.action == Action.EXISTS and dataset.resource_id and dataset.action != Action.CREATE:
        flow = flow_for_dataset(found, str(connection.resource_id), dataset.resource_id)
        if flow is not None:
            step.action, step.resource_id = Action.EXISTS, str(flow.get("id"))
            step.name = str(flow.get("name") or name)
            step.summary = f"{step.resource_id} -> dataset {dataset.resource_id}"
    return step
