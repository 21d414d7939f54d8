"""The tenant block `_{tenant}.stripe`: Stripe's own view of every object, in the customer's field group."""

from __future__ import annotations

from typing import Any

from target_aep.xdm.currency import AmountWithoutCurrencyError, currency_code
from target_aep.xdm.repairs import CONVERTED, TRUNCATED, RepairLog
from target_aep.xdm.rules import FieldRule
from target_aep.xdm.schema_tree import SchemaNode
from target_aep.xdm.stripe_fields import DESCRIPTION_LIMIT, TENANT_SOURCES, object_type, stripe_details
from target_aep.xdm.stripe_fields import _name as name_of
from target_aep.xdm.tenant_compiled import TenantBlock, tenant_block_for_stream

# Stripe caps metadata at 50 keys of 500 characters: up to ~27 KB, beyond the 10 KB event guardrail.
METADATA_BUDGET = {"experienceevent": 4_000, "profile": 40_000, "record": 40_000}


def bounded_metadata(metadata: dict[str, Any], budget: int, repairs: RepairLog, xdm_path: str) -> dict[str, str]:
    """Metadata as a map of strings, keys in sorted order until `budget` characters; the rest is reported."""
    kept: dict[str, str] = {}
    used = 0
    for key in sorted(metadata):
        value = metadata[key]
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        used += len(key) + len(text)
        if used > budget:
            repairs.dropped(
                f"metadata.{key}", f"{xdm_path}.{key}", f"metadata beyond the size guardrail of {budget} characters"
            )
            continue
        if text is not value:
            repairs.altered(
                f"metadata.{key}", f"{xdm_path}.{key}", CONVERTED, f"a {type(value).__name__} written as text"
            )
        kept[key] = text
    return kept


def note_cut(repairs: RepairLog, field: str, xdm_path: str, text: Any, limit: int) -> None:
    """Note that `truncate(text, limit)` cut `text` (`stripe_fields.truncate` marks the cut with an ellipsis)."""
    if isinstance(text, str) and len(text) > limit:
        repairs.altered(field, xdm_path, TRUNCATED, f"over-long text cut to {limit} characters")


def tenant_rule(tenant_key: str, stream_name: str, xdm_class: str) -> FieldRule:
    """One rule writing `_{tenant}.stripe`; fields the schema lacks are dropped and reported."""
    budget = METADATA_BUDGET.get(xdm_class, 4_000)
    path = f"{tenant_key}.stripe"

    def produce(record: dict[str, Any], repairs: RepairLog) -> dict[str, Any]:
        obj_type = object_type(record, stream_name)
        details = stripe_details(record, stream_name, obj_type)
        description = record.get("description") or record.get("memo")
        note_cut(repairs, "description" if record.get("description") else "memo", f"{path}.description",
                 description, DESCRIPTION_LIMIT)  # fmt: skip
        note_cut(repairs, "name", f"{path}.name", name_of(record, obj_type), 256)
        if (details.get("amount") is not None or details.get("amountRefunded") is not None) and currency_code(
            details.get("currency")
        ) is None:
            # An amount means nothing without its currency (1000 is $10 or 1000 yen): reject the record (the
            # sink dead-letters it with this reason) rather than land a number no one can read.
            raise AmountWithoutCurrencyError(
                f"amount {details.get('amount')!r} without a valid ISO 4217 currency "
                f"(currency: {details.get('currency')!r})"
            )
        metadata = details.get("metadata")
        if metadata:
            details["metadata"] = bounded_metadata(metadata, budget, repairs, f"{path}.metadata")
        return details

    def compile_fitted(node: SchemaNode, path: str) -> TenantBlock | None:
        return tenant_block_for_stream(node, path, stream_name, budget) if node.kind == "object" else None

    return FieldRule(
        f"{tenant_key}.stripe",
        produce,
        tuple(sorted(set(TENANT_SOURCES.values()))),
        dict(TENANT_SOURCES),
        compile_fitted=compile_fitted,
    )
