"""What target-aep needs in a sandbox: the resources set-up makes sure exist, by name.

Three datasets, one per XDM class the mapping writes (`target_aep.xdm.stream_classes` says which stream goes
where): Individual Profile for customers, ExperienceEvent for money movements and lifecycle changes, and a
custom record class for catalog lookups. Each schema carries the tenant field group "Stripe Object Details"
(`_{tenant}.stripe`); the profile and event schemas also carry the standard field groups the mapping fills,
and resolve to the schemas in the repository's `xdm/` directory.

Titles and names are set-up options (`Names`, one `--flag` each in the CLI): the target itself only ever sees
dataset ids, so they are not target settings.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field, fields

from tap_stripe_aep.stream_catalog import STREAMS
from target_aep.xdm.schema_tree import EVENT_CLASS, PROFILE_CLASS, XdmClass
from target_aep.xdm.stream_classes import default_xdm_class

RECORD_BEHAVIOR = "https://ns.adobe.com/xdm/data/record"
DEMOGRAPHIC_DETAILS = "https://ns.adobe.com/xdm/context/profile-person-details"
PERSONAL_CONTACT_DETAILS = "https://ns.adobe.com/xdm/context/profile-personal-details"
IDENTITY_MAP = "https://ns.adobe.com/xdm/context/identitymap"
COMMERCE_DETAILS = "https://ns.adobe.com/xdm/context/experienceevent-commerce"

HTTP_API_CONNECTION_SPEC = "bc7b00d6-623a-4dfc-9fdb-f1240aeadaeb"  # Flow Service: HTTP API streaming source
DATA_LAKE_CONNECTION_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"  # Flow Service: the data lake (a dataset)
STREAMING_FLOW_SPEC = "d8a6f005-7eaf-4153-983e-e8574508b877"  # Flow Service: HTTP API -> dataset, no mapping

XED_FULL_CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
PROFILE_DATASET_TAGS = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}

# The order resources are planned, shown and created in.
ROLES: tuple[XdmClass, ...] = ("profile", "experienceevent", "record")
PROFILE_ROLES: tuple[XdmClass, ...] = ("profile", "experienceevent")  # lookup records are not about a person


def _name(default: str, flag: str, what: str) -> t.Any:
    return field(default=default, metadata={"flag": flag, "help": what})


@dataclass(frozen=True)
class Names:
    """Titles and names set-up finds things by and creates them with; each is a flag of `target-aep-setup`.

    The defaults are the names docs/aep-setup.md suggests for the manual set-up, so a sandbox set up by hand
    that way is found and reused; the schema titles are those of the schemas in `xdm/`.
    """

    field_group: str = _name("Stripe Object Details", "--field-group-title", "title of the tenant field group")
    record_class: str = _name("Stripe Catalog Object", "--record-class-title", "title of the catalog record class")
    profile_schema: str = _name("Stripe Customer Profile", "--profile-schema-title", "title of the profile schema")
    event_schema: str = _name("Stripe Commerce Event", "--event-schema-title", "title of the event schema")
    record_schema: str = _name("Stripe Catalog Record", "--record-schema-title", "title of the catalog schema")
    profile_dataset: str = _name("Stripe Customers", "--profile-dataset-name", "name of the profile dataset")
    event_dataset: str = _name("Stripe Commerce Events", "--event-dataset-name", "name of the event dataset")
    record_dataset: str = _name("Stripe Catalog", "--record-dataset-name", "name of the catalog dataset")
    streaming_connection: str = _name(
        "Stripe to AEP (HTTP API)", "--streaming-connection-name", "name of the HTTP API streaming connection"
    )

    @classmethod
    def options(cls) -> list[tuple[str, str, str, str]]:
        """(attribute, flag, default, help) for every name, in declaration order."""
        return [(f.name, f.metadata["flag"], str(f.default), f.metadata["help"]) for f in fields(cls)]


@dataclass(frozen=True)
class SchemaSpec:
    """One dataset schema: its class, the standard field groups it carries (plus the tenant one), Profile."""

    role: XdmClass
    title: str
    description: str
    class_id: str | None  # None: the custom record class set-up creates
    class_label: str
    field_groups: tuple[tuple[str, str], ...]  # ($id, label) of standard field groups
    profile: bool  # enable for Profile (`union` tag)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its schema (by role), whether Profile ingests it, the streams routed to it."""

    role: XdmClass
    name: str
    description: str
    profile: bool
    streams: tuple[str, ...]


@dataclass(frozen=True)
class NamespaceSpec:
    code: str
    name: str = "Stripe Customer ID"
    id_type: str = "Cross_device"
    description: str = "Stripe customer ids (cus_...), the primary identity of records written by target-aep"


@dataclass(frozen=True)
class Desired:
    """Everything set-up wants in the sandbox, with the options of this run."""

    tenant: str
    names: Names
    namespace: NamespaceSpec
    schemas: dict[XdmClass, SchemaSpec]
    datasets: dict[XdmClass, DatasetSpec]
    profile: bool
    streaming: bool

    @property
    def record_class_description(self) -> str:
        return "Stripe catalog objects (products, prices, plans, coupons, promotion codes) as lookup records."

    @property
    def field_group_description(self) -> str:
        return "Stripe's own view of each object (ids, status, amounts in minor units, metadata), filled by target-aep."


def default_routing(streams: list[str] | None = None) -> dict[XdmClass, tuple[str, ...]]:
    """Every stream of the tap, grouped by the XDM class the target maps it to by default."""
    names = streams if streams is not None else [s.name for s in STREAMS]
    return {role: tuple(s for s in names if default_xdm_class(s) == role) for role in ROLES}


def desired_sandbox(*, tenant: str, names: Names, namespace_code: str, profile: bool, streaming: bool) -> Desired:
    """What target-aep needs, for a sandbox whose tenant namespace is ``tenant``."""
    routing = default_routing()
    schemas: dict[XdmClass, SchemaSpec] = {
        "profile": SchemaSpec(
            "profile",
            names.profile_schema,
            "Stripe customers as XDM Individual Profile records.",
            PROFILE_CLASS,
            "XDM Individual Profile",
            (
                (DEMOGRAPHIC_DETAILS, "Demographic Details"),
                (PERSONAL_CONTACT_DETAILS, "Personal Contact Details"),
                (IDENTITY_MAP, "IdentityMap"),
            ),
            profile,
        ),
        "experienceevent": SchemaSpec(
            "experienceevent",
            names.event_schema,
            "Stripe payment activity (charges, refunds, invoices paid) as XDM ExperienceEvents.",
            EVENT_CLASS,
            "XDM ExperienceEvent",
            ((COMMERCE_DETAILS, "Commerce Details"), (IDENTITY_MAP, "IdentityMap")),
            profile,
        ),
        "record": SchemaSpec(
            "record",
            names.record_schema,
            "Stripe products, prices, plans and coupons as lookup records.",
            None,
            names.record_class,
            (),
            False,
        ),
    }
    datasets: dict[XdmClass, DatasetSpec] = {
        "profile": DatasetSpec(
            "profile", names.profile_dataset, "Stripe customers, written by target-aep", profile, routing["profile"]
        ),
        "experienceevent": DatasetSpec(
            "experienceevent",
            names.event_dataset,
            "Stripe money movements and lifecycle changes, written by target-aep",
            profile,
            routing["experienceevent"],
        ),
        "record": DatasetSpec(
            "record", names.record_dataset, "Stripe catalog objects, written by target-aep", False, routing["record"]
        ),
    }
    return Desired(
        tenant=tenant,
        names=names,
        namespace=NamespaceSpec(namespace_code),
        schemas=schemas,
        datasets=datasets,
        profile=profile,
        streaming=streaming,
    )
