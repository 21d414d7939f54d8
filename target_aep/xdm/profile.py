"""Stripe customers -> XDM Individual Profile (and the generic profile mapping for other streams)."""

from __future__ import annotations

import re
from typing import Any

from target_aep.xdm.identities import (
    identity_map,
    identity_map_rule,
    note_unusable_email,
    object_id,
    object_id_of,
    xdm_id_rule,
)
from target_aep.xdm.repairs import RepairLog
from target_aep.xdm.rules import FieldRule, computed
from target_aep.xdm.schema_tree import SchemaTree
from target_aep.xdm.stripe_fields import customer_id, get_path, object_type
from target_aep.xdm.tenant import tenant_rule

_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def xdm_address(address: Any) -> dict[str, Any] | None:
    """Stripe address -> XDM postal address.

    `stateProvince` wants ISO 3166-2 (`US-CA`); Stripe's `state` is free text (`CA`, `California`, `NSW`),
    so it becomes `stateProvince` only when it is a short code under a two-letter country; otherwise it goes
    to `region` unchanged, and nothing is lost.
    """
    if not isinstance(address, dict):
        return None
    country = address.get("country")
    country = country.strip().upper() if isinstance(country, str) else None
    state = address.get("state")
    state = state.strip() if isinstance(state, str) and state.strip() else None
    result: dict[str, Any] = {
        "street1": address.get("line1") or None,
        "street2": address.get("line2") or None,
        "city": address.get("city") or None,
        "postalCode": address.get("postal_code") or None,
    }
    if country and _COUNTRY.match(country):
        result["countryCode"] = country
    elif country:
        result["country"] = country
    if state:
        code = state.upper()
        if result.get("countryCode") and _SUBDIVISION.match(code):
            result["stateProvince"] = f"{result['countryCode']}-{code}"
        else:
            result["region"] = state
    result = {key: value for key, value in result.items() if value is not None}
    return result or None


def person_name(record: dict[str, Any]) -> dict[str, str] | None:
    """`fullName` from Stripe's `name` (or `individual_name`); first/last when it splits into two or more words.

    A business name (`business_name`) is not a person's name and is left to `_{tenant}.stripe.name`.
    """
    full = record.get("individual_name") or record.get("name")
    if not isinstance(full, str) or not full.strip():
        return None
    if record.get("business_name") and not record.get("individual_name") and full == record["business_name"]:
        return None
    full = " ".join(full.split())
    name = {"fullName": full}
    parts = full.split(" ")
    if len(parts) >= 2:
        name["firstName"] = parts[0]
        name["lastName"] = " ".join(parts[1:])
    return name


def _email(record: dict[str, Any]) -> dict[str, Any] | None:
    email = record.get("email")
    return {"address": email.strip(), "primary": True} if isinstance(email, str) and email.strip() else None


def _phone(path: str) -> Any:
    def produce(record: dict[str, Any]) -> dict[str, Any] | None:
        phone = get_path(record, path)
        return {"number": phone, "primary": True} if isinstance(phone, str) and phone.strip() else None

    return produce


def _identities(namespace: str, customer: Any) -> Any:
    """`identityMap` of a profile: the customer (`customer(record)`) and its e-mail, an unusable one reported."""

    def produce(record: dict[str, Any], repairs: RepairLog) -> Any:
        email = record.get("email")
        identities = identity_map(namespace, customer(record), email)
        note_unusable_email(repairs, email, identities)
        return identities

    return produce


def customer_profile_rules(tree: SchemaTree, stream_name: str, identity_namespace: str) -> list[FieldRule]:
    """Rules for a Stripe customer in an Individual Profile dataset."""
    phone_target = next((p for p in ("mobilePhone", "homePhone") if tree.has(p)), "mobilePhone")
    return [
        xdm_id_rule(("id",), lambda r: object_id(stream_name, r), object_id_of(stream_name)),
        identity_map_rule(identity_namespace, _identities(identity_namespace, lambda r: r.get("id")), ("id", "email")),
        computed("person.name", ("name",), person_name),
        computed("personalEmail", ("email",), _email),
        computed(phone_target, ("phone",), _phone("phone")),
        computed("homeAddress", ("address",), lambda r: xdm_address(r.get("address"))),
        computed("billingAddress", ("address",), lambda r: xdm_address(r.get("address"))),
        computed("shippingAddress", ("shipping",), lambda r: xdm_address(get_path(r, "shipping.address"))),
        computed("shippingAddressPhone", ("shipping",), _phone("shipping.phone")),
        tenant_rule(tree.tenant_key, stream_name, "profile"),
    ]


def generic_profile_rules(tree: SchemaTree, stream_name: str, identity_namespace: str) -> list[FieldRule]:
    """Any other stream sent to a profile dataset: the owning customer's identity and the tenant block."""
    return [
        xdm_id_rule(("id",), lambda r: object_id(stream_name, r), object_id_of(stream_name)),
        identity_map_rule(
            identity_namespace,
            _identities(identity_namespace, lambda r: customer_id(r, object_type(r, stream_name))),
            ("customer",),
        ),
        tenant_rule(tree.tenant_key, stream_name, "profile"),
    ]
