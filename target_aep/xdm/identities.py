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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from target_aep.xdm.repairs import RepairLog

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


def object_id(stream_name: str, record: dict[str, Any]) -> str:
    """`_id` of a profile or record: one per Stripe object."""
    return xdm_uuid5(f"{stream_name}/{record.get('account_id') or ''}/{record.get('id') or ''}")


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
