"""Identities: `identityMap` entries and deterministic `_id` values.

`_id` rule (see docs/xdm-mapping.md):
- ExperienceEvent: one event per change the tap saw, so the id follows the *version*:
  UUIDv5 of `stream/account/id/updated/is_deleted`. A replay of the same record gives the same `_id`.
- Profile and record classes: the record is the object's current state, so the id follows the *object*:
  UUIDv5 of `stream/account/id`. A newer version of the same customer or product keeps its `_id`.
A UUID is always a valid `uri-reference`, whatever characters a Stripe id or account holds.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from target_aep.xdm.rules import FieldRule, FittedProducer, Proven

if TYPE_CHECKING:
    from target_aep.xdm.repairs import RepairLog
    from target_aep.xdm.schema_tree import SchemaNode

# Fixed namespace for every `_id` this target produces (uuid5 of the project's URL namespace name).
XDM_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/tap-stripe-aep/target-aep/xdm-id")
_NAMESPACE_BYTES = XDM_ID_NAMESPACE.bytes
_VARIANT = {f"{nibble:x}": f"{(nibble & 0x3) | 0x8:x}" for nibble in range(16)}  # hex digit -> with bits 10


def xdm_uuid5(name: str) -> str:
    """`str(uuid.uuid5(XDM_ID_NAMESPACE, name))`, computed directly (one `_id` per record: `uuid.UUID`'s
    constructor and checks cost more than the hash). A test compares the two on many names."""
    h = hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8"), usedforsecurity=False).hexdigest()
    # RFC 4122: the version nibble (13th hex digit) is 5; the variant bits (top two of the 17th) are 10.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def event_id(stream_name: str, record: dict[str, Any]) -> str:
    """`_id` of an ExperienceEvent: one per object version (change)."""
    key = "/".join(
        (
            stream_name,
            str(record.get("account_id") or ""),
            str(record.get("id") or ""),
            str(record.get("updated") or record.get("created") or ""),
            "deleted" if record.get("is_deleted") else "live",
        )
    )
    return xdm_uuid5(key)


def event_id_of(stream_name: str) -> Callable[[dict[str, Any]], str]:
    """`event_id` for one stream, as one function: what the compiled mapping calls for every record."""
    prefix = stream_name + "/"
    uuid5 = _namespaced_uuid5()

    def stream_event_id(record: dict[str, Any]) -> str:
        get = record.get
        return uuid5(
            f"{prefix}{get('account_id') or ''}/{get('id') or ''}/{get('updated') or get('created') or ''}/"
            f"{'deleted' if get('is_deleted') else 'live'}"
        )

    return stream_event_id


def object_id(stream_name: str, record: dict[str, Any]) -> str:
    """`_id` of a profile or record: one per Stripe object."""
    return xdm_uuid5(f"{stream_name}/{record.get('account_id') or ''}/{record.get('id') or ''}")


def object_id_of(stream_name: str) -> Callable[[dict[str, Any]], str]:
    """`object_id` for one stream, as one function: what the compiled mapping calls for every record."""
    prefix = stream_name + "/"
    uuid5 = _namespaced_uuid5()

    def stream_object_id(record: dict[str, Any]) -> str:
        get = record.get
        return uuid5(f"{prefix}{get('account_id') or ''}/{get('id') or ''}")

    return stream_object_id


def _namespaced_uuid5() -> Callable[[str], str]:
    """`xdm_uuid5` with the namespace hashed once: each name hashes a copy of that state (the per-stream `_id`
    functions above call it for every record)."""
    namespaced = hashlib.sha1(_NAMESPACE_BYTES, usedforsecurity=False)
    variant = _VARIANT

    def uuid5(name: str) -> str:
        digest = namespaced.copy()
        digest.update(name.encode("utf-8"))
        h = digest.hexdigest()
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:32]}"

    return uuid5


def note_unusable_email(repairs: RepairLog, email: Any, identities: dict[str, Any] | None) -> None:
    """An e-mail the record holds that `identity_map` could not use as an identity (no `@`, inner spaces)."""
    if isinstance(email, str) and email.strip() and not (identities and "Email" in identities):
        repairs.dropped("email", "identityMap.Email", "not a valid email address")


def identity_map(namespace: str, customer: str | None, email: Any = None) -> dict[str, list[dict[str, Any]]] | None:
    """`identityMap` with the Stripe customer id as the primary identity and the e-mail as a secondary one.

    The customer id is a back-office identifier the account holder authenticated for, so it is
    `authenticated`; an e-mail typed into a form is `ambiguous` and never primary, so a guest payment without a
    customer lands with its e-mail only (see docs/xdm-mapping.md, "Identities").
    """
    identities: dict[str, list[dict[str, Any]]] = {}
    if customer:
        identities[namespace] = [{"id": customer, "primary": True, "authenticatedState": "authenticated"}]
    if isinstance(email, str) and "@" in email and " " not in email.strip():
        identities["Email"] = [
            {
                "id": email.strip().lower(),
                "primary": False,
                "authenticatedState": "ambiguous",
            }
        ]
    return identities or None


_A_UUID = "00000000-0000-5000-8000-000000000000"


def uuid_fits_as_is(node: SchemaNode) -> bool:
    """Whether every UUID string fits `node` unchanged, so fitting an `_id` can be skipped: decided once per
    schema from the node's constraints (a UUID is 36 characters, and always a valid `uri-reference`).
    Any pattern or enum, a shorter `maxLength` or another format: not proven, the value is fitted as usual."""
    from target_aep.xdm.fitting import format_check  # fitting imports nothing from here; kept local all the same

    return (
        node.kind == "string"
        and node.pattern is None
        and node.enum is None
        and (node.max_length is None or node.max_length >= len(_A_UUID))
        and node.fmt in (None, "uri-reference")
        and (node.fmt is None or format_check(node.fmt)(_A_UUID))
    )


def xdm_id_rule(
    sources: tuple[str, ...],
    make_id: Callable[[dict[str, Any]], str],
    compiled_id: Callable[[dict[str, Any]], str] | None = None,
) -> FieldRule:
    """The `_id` rule: `make_id(record)`, a UUID (`xdm_uuid5`), written without fitting where the schema's `_id`
    accepts any UUID as is (`uuid_fits_as_is`); `XdmValidator` still checks every record. `compiled_id`, when
    given, is the same function in a faster form for the compiled mapping (`make_id` stays the definition)."""

    def compile_fitted(node: SchemaNode, _path: str) -> Proven | None:
        return Proven(compute=compiled_id or make_id) if uuid_fits_as_is(node) else None

    return FieldRule("_id", lambda record, _repairs: make_id(record), sources, compute=make_id,
                     compile_fitted=compile_fitted)  # fmt: skip


def identity_map_fits_as_is(node: SchemaNode, namespace: str) -> bool:
    """Whether every `identity_map(namespace, ...)` whose ids are strings fits `node` unchanged: the node is a
    map of arrays of identity objects whose `id` is any string, and a sample with both entries comes out of
    fitting equal, with nothing reported. Decided once per schema; anything else is fitted as usual."""
    from target_aep.xdm.fitting import fitter_for

    items = node.values.values if node.kind == "map" and node.values is not None else None
    if items is None or items.kind != "object" or set(items.required) - {"id", "primary", "authenticatedState"}:
        return False
    id_node = items.properties.get("id")
    if id_node is None or id_node.plain_type is not str:
        return False
    sample = identity_map(namespace, "cus_sample", "someone@example.com")
    reported: list[str] = []
    fitted = fitter_for(node)(sample, "identityMap", lambda path, *_: reported.append(path))
    return fitted == sample and not reported


def identity_map_rule(
    namespace: str, produce: Callable[[dict[str, Any], RepairLog], Any], sources: tuple[str, ...]
) -> FieldRule:
    """The `identityMap` rule: `produce` builds it with `identity_map`; where the schema takes such a map as is
    (`identity_map_fits_as_is`) only the customer id's type is checked per record (an e-mail id is always a
    string; a customer id read from a malformed record may not be, and is then fitted as usual)."""

    def compile_fitted(node: SchemaNode, path: str) -> FittedProducer | None:
        if not identity_map_fits_as_is(node, namespace):
            return None
        from target_aep.xdm.fitting import fitter_for

        fit = fitter_for(node)

        def fitted(record: dict[str, Any], repairs: RepairLog, on_drop: Callable[[str, str, str], None]) -> Any:
            identities = produce(record, repairs)
            if identities is None:
                return None
            customer = identities.get(namespace)
            if customer is not None and type(customer[0]["id"]) is not str:
                return fit(identities, path, on_drop)
            return identities

        return fitted

    return FieldRule("identityMap", produce, sources, compile_fitted=compile_fitted)
