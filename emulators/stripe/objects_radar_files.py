"""Builders for Radar (early fraud warnings, reviews) and files (files, file links); pure functions of
(account data, index), in the pinned API version's shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulators.stripe.generator import AccountData

DAY = 86_400
FILE_PURPOSES = (
    ("dispute_evidence", "pdf", "receipt"),
    ("dispute_evidence", "png", "delivery_photo"),
    ("identity_document", "jpg", "passport"),
    ("business_logo", "png", "logo"),
    ("customer_signature", "png", "signature"),
    ("tax_document_user_upload", "pdf", "w9"),
)


def early_fraud_warning(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import EFW_AT, EFW_EVERY

    seq = d.seq["early_fraud_warnings"]
    j = k * EFW_EVERY + EFW_AT
    rng = d.rng("early_fraud_warnings", k)
    return {
        "id": seq.id_of(k),
        "object": "radar.early_fraud_warning",
        "actionable": rng.chance(0.7),
        "charge": d.seq["charges"].id_of(j),
        "created": seq.created(k),
        "fraud_type": rng.pick(("made_with_stolen_card", "unauthorized_use_of_card", "card_never_received", "misc")),
        "livemode": False,
        "payment_intent": d.seq["payment_intents"].id_of(j),
    }


def review(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import REVIEW_AT, REVIEW_EVERY

    seq = d.seq["reviews"]
    j = k * REVIEW_EVERY + REVIEW_AT
    rng = d.rng("reviews", k)
    charge = d.seq["charges"].original(j)
    is_open = rng.chance(0.25)
    closed = rng.pick(("approved", "refunded", "refunded_as_fraud", "disputed"))
    return {
        "id": seq.id_of(k),
        "object": "review",
        "billing_zip": charge["billing_details"]["address"]["postal_code"],
        "charge": charge["id"],
        "closed_reason": None if is_open else closed,
        "created": seq.created(k),
        "ip_address": f"203.0.113.{rng.below(255)}",
        "ip_address_location": None,
        "livemode": False,
        "open": is_open,
        "opened_reason": rng.pick(("rule", "rule", "manual")),
        "payment_intent": charge["payment_intent"],
        "reason": "rule" if is_open else closed,
        "session": None,
    }


def file(d: AccountData, i: int) -> dict[str, Any]:
    seq = d.seq["files"]
    rng = d.rng("files", i)
    created = seq.created(i)
    file_id = seq.id_of(i)
    purpose, kind, stem = rng.pick(FILE_PURPOSES)
    return {
        "id": file_id,
        "object": "file",
        "created": created,
        "expires_at": created + 365 * DAY if purpose == "dispute_evidence" else None,
        "filename": f"{stem}_{i + 1}.{kind}",
        "links": {"object": "list", "data": [], "has_more": False, "url": f"/v1/file_links?file={file_id}"},
        "purpose": purpose,
        "size": 2_000 + rng.below(4_000_000),
        "title": None,
        "type": kind,
        "url": f"https://files.stripe.com/v1/files/{file_id}/contents",
    }


def file_link(d: AccountData, k: int) -> dict[str, Any]:
    from emulators.stripe.generator import FILE_LINK_AT, FILE_LINK_EVERY

    seq = d.seq["file_links"]
    created = seq.created(k)
    rng = d.rng("file_links", k)
    expires_at = created + (30 + rng.below(300)) * DAY if rng.chance(0.6) else None
    link_id = seq.id_of(k)
    return {
        "id": link_id,
        "object": "file_link",
        "created": created,
        "expired": expires_at is not None and expires_at <= d.end,
        "expires_at": expires_at,
        "file": d.seq["files"].id_of(k * FILE_LINK_EVERY + FILE_LINK_AT),
        "livemode": False,
        "metadata": {},
        "url": f"https://files.stripe.com/links/{link_id}",
    }
