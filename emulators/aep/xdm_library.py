"""The Schema Registry's standard library and the ``stripe`` preset, both derived from the resolved files in ``xdm/``.

Each file in ``xdm/`` is a schema already resolved into ``xed-full`` form; its ``meta:extends`` names the parts it
was built from. ``_PROPERTY_SOURCES`` says which part each top-level property comes from, so the standard
classes, behaviors and field groups are cut out of those files instead of being written twice. The tenant parts
(the custom record class, the "Stripe Object Details" field group, the three schemas) only exist in the preset.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from emulators.aep.config import XDM_DIR

DRAFT_06 = "http://json-schema.org/draft-06/schema#"
XDM = "https://ns.adobe.com/xdm"
RECORD = f"{XDM}/data/record"
TIME_SERIES = f"{XDM}/data/time-series"
PROFILE = f"{XDM}/context/profile"
EXPERIENCE_EVENT = f"{XDM}/context/experienceevent"
AUDITABLE = f"{XDM}/common/auditable"
EXTENSIBLE = f"{XDM}/common/extensible"
PERSON_DETAILS = f"{XDM}/context/profile-person-details"
PERSONAL_DETAILS = f"{XDM}/context/profile-personal-details"
IDENTITY_MAP = f"{XDM}/context/identitymap"
COMMERCE = f"{XDM}/context/experienceevent-commerce"

PROFILE_FILE = "stripe-customer-profile.schema.json"
EVENT_FILE = "stripe-commerce-event.schema.json"
CATALOG_FILE = "stripe-catalog-record.schema.json"


@dataclass(frozen=True)
class StandardPart:
    """One global resource: what it is, and which top-level properties of which ``xdm/`` file it contributes."""

    id: str
    resource_type: str  # "behaviors" | "classes" | "mixins" (field groups)
    title: str
    description: str
    source_file: str | None
    properties: tuple[str, ...]
    extends: tuple[str, ...] = ()
    intended_to_extend: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


# Which part each property of the resolved files comes from (adobe/xdm 1.9.5, as xdm/README.md describes).
_PROPERTY_SOURCES: tuple[StandardPart, ...] = (
    StandardPart(RECORD, "behaviors", "Record Schema", "Record data semantics.", PROFILE_FILE, ("_id",)),
    StandardPart(
        TIME_SERIES,
        "behaviors",
        "Time-series Schema",
        "Time-series data semantics: an event at a point in time.",
        EVENT_FILE,
        ("_id", "timestamp"),
        required=("_id", "timestamp"),
    ),
    StandardPart(
        PROFILE,
        "classes",
        "XDM Individual Profile",
        "A singular representation of the attributes and interests of an individual.",
        PROFILE_FILE,
        ("personID",),
        extends=(RECORD, AUDITABLE),
    ),
    StandardPart(
        EXPERIENCE_EVENT,
        "classes",
        "XDM ExperienceEvent",
        "A time-series record of an event observed by a system.",
        EVENT_FILE,
        ("eventType", "eventMergeId", "producedBy"),
        extends=(TIME_SERIES, IDENTITY_MAP),
    ),
    StandardPart(
        AUDITABLE,
        "mixins",
        "Audit Trail",
        "Who created or changed a record, and when.",
        PROFILE_FILE,
        ("repositoryCreatedBy", "repositoryLastModifiedBy", "createdByBatchID", "modifiedByBatchID", "_repo"),
    ),
    StandardPart(EXTENSIBLE, "mixins", "Extensible", "The JSON-LD context every XDM resource extends.", None, ()),
    StandardPart(
        PERSON_DETAILS,
        "mixins",
        "Demographic Details",
        "Demographic information such as name, gender, and birth date of an individual.",
        PROFILE_FILE,
        ("person",),
        extends=(EXTENSIBLE,),
        intended_to_extend=(PROFILE,),
    ),
    StandardPart(
        PERSONAL_DETAILS,
        "mixins",
        "Personal Contact Details",
        "Contact information for an individual person such as home address, phone number, fax, and email.",
        PROFILE_FILE,
        (
            "homeAddress",
            "personalEmail",
            "homePhone",
            "mobilePhone",
            "faxPhone",
            "shippingAddressPhone",
            "billingAddressPhone",
            "shippingAddress",
            "billingAddress",
            "mailingAddress",
        ),
        extends=(EXTENSIBLE,),
        intended_to_extend=(PROFILE,),
    ),
    StandardPart(
        IDENTITY_MAP,
        "mixins",
        "IdentityMap",
        "A map of identity namespaces to the identities of the subject.",
        PROFILE_FILE,
        ("identityMap",),
        intended_to_extend=(PROFILE, EXPERIENCE_EVENT),
    ),
    StandardPart(
        COMMERCE,
        "mixins",
        "Commerce Details",
        "Commerce information: orders, payments, products and commerce measures.",
        EVENT_FILE,
        ("commerce", "productListItems"),
        extends=(EXTENSIBLE,),
        intended_to_extend=(EXPERIENCE_EVENT,),
    ),
)

# The stripe preset's tenant resources: ids fixed by xdm/README.md.
PRESET_CLASS_ID = "https://ns.adobe.com/{tenant}/classes/8fe3f4ef6fa8208d28d028984f9b3285"
PRESET_FIELD_GROUP_ID = "https://ns.adobe.com/{tenant}/mixins/44d4b51ff1f6445ab66e7676f571168f"
PRESET_SCHEMA_FILES = (PROFILE_FILE, EVENT_FILE, CATALOG_FILE)


@cache
def _resolved_file(name: str) -> dict[str, Any]:
    return json.loads((XDM_DIR / name).read_text(encoding="utf-8"))


def resolved_file_text(name: str) -> str:
    """A file of ``xdm/`` verbatim (the preset serves it byte for byte)."""
    return (XDM_DIR / name).read_text(encoding="utf-8")


def _alt_id(resource_id: str) -> str:
    """``https://ns.adobe.com/xdm/context/profile`` -> ``_xdm.context.profile``, as the registry names it."""
    return "_" + resource_id.removeprefix("https://ns.adobe.com/").replace("/", ".")


def _definition_name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def _resource_body(
    resource_id: str,
    resource_type: str,
    title: str,
    description: str,
    properties: dict[str, Any],
    *,
    container: str,
    extends: tuple[str, ...] = (),
    intended_to_extend: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
    version: str,
) -> dict[str, Any]:
    """A resource in ``xed`` form: own fields under ``definitions``, inherited ones by ``$ref`` in ``allOf``."""
    name = _definition_name(resource_id)
    definition: dict[str, Any] = {"properties": properties}
    if required:
        definition["required"] = list(required)
    body: dict[str, Any] = {
        "$id": resource_id,
        "meta:altId": _alt_id(resource_id),
        "meta:resourceType": resource_type,
        "version": version,
        "title": title,
        "type": "object",
        "description": description,
        "definitions": {name: definition},
        "allOf": [{"$ref": ref, "type": "object", "meta:xdmType": "object"} for ref in extends]
        + [{"$ref": f"#/definitions/{name}", "type": "object", "meta:xdmType": "object"}],
        "meta:extends": list(extends),
        "meta:abstract": True,
        "meta:extensible": True,
        "meta:containerId": container,
        "meta:xdmType": "object",
        "$schema": DRAFT_06,
    }
    if resource_type == "mixins":
        body["meta:intendedToExtend"] = list(intended_to_extend)
    return body


@cache
def _standard_bodies() -> tuple[dict[str, Any], ...]:
    bodies = []
    for part in _PROPERTY_SOURCES:
        source = _resolved_file(part.source_file)["properties"] if part.source_file else {}
        properties = {name: source[name] for name in part.properties}
        bodies.append(
            _resource_body(
                part.id,
                part.resource_type,
                part.title,
                part.description,
                properties,
                container="global",
                extends=part.extends,
                intended_to_extend=part.intended_to_extend,
                required=part.required,
                version="1.9.5",
            )
        )
    return tuple(bodies)


def standard_resources() -> list[dict[str, Any]]:
    """The global behaviors, classes and field groups every sandbox starts with (fresh copies)."""
    return copy.deepcopy(list(_standard_bodies()))


@dataclass(frozen=True)
class PresetSchema:
    """A preset schema: its ``xed`` body (composed from the parts) and the ``xdm/`` file served as ``xed-full``."""

    body: dict[str, Any]
    full_text: str


def preset_stripe(tenant: str) -> tuple[dict[str, Any], dict[str, Any], list[PresetSchema]]:
    """The custom record class, the "Stripe Object Details" field group and the three schemas of ``xdm/``."""
    catalog = _resolved_file(CATALOG_FILE)
    class_id = PRESET_CLASS_ID.format(tenant=tenant)
    field_group_id = PRESET_FIELD_GROUP_ID.format(tenant=tenant)
    record_class = _resource_body(
        class_id,
        "classes",
        "Stripe Catalog Object",
        "Stripe products, prices, plans and coupons: lookup records.",
        {},
        container="tenant",
        extends=(RECORD,),
        version="1.0",
    )
    record_class["meta:tenantNamespace"] = f"_{tenant}"
    field_group = _resource_body(
        field_group_id,
        "mixins",
        "Stripe Object Details",
        "The Stripe object each record was built from.",
        {f"_{tenant}": copy.deepcopy(catalog["properties"][f"_{tenant}"])},
        container="tenant",
        intended_to_extend=(PROFILE, EXPERIENCE_EVENT, class_id),
        version="1.0",
    )
    field_group["meta:tenantNamespace"] = f"_{tenant}"
    schemas = []
    for file_name in PRESET_SCHEMA_FILES:
        resolved = _resolved_file(file_name)
        extends = resolved["meta:extends"]
        parts = [extends[0]] + [ref for ref in extends if ref.endswith(("-details", "identitymap", "commerce"))]
        parts += [ref for ref in extends if "/mixins/" in ref]
        body = {
            key: copy.deepcopy(value)
            for key, value in resolved.items()
            if key not in ("properties", "required", "additionalProperties")
        }
        body["allOf"] = [{"$ref": ref, "type": "object", "meta:xdmType": "object"} for ref in parts]
        schemas.append(PresetSchema(body, resolved_file_text(file_name)))
    return record_class, field_group, schemas
