"""Stripe catalog objects (and any stream sent to a record-class dataset) -> `_id` + `_{tenant}.stripe`."""

from __future__ import annotations

from target_aep.xdm.identities import object_id, object_id_of, xdm_id_rule
from target_aep.xdm.rules import FieldRule
from target_aep.xdm.schema_tree import SchemaTree
from target_aep.xdm.tenant import tenant_rule


def record_rules(tree: SchemaTree, stream_name: str) -> list[FieldRule]:
    """A record-class row is the object's latest state; deletions keep the row with `deleted: true`."""
    return [
        xdm_id_rule(("id",), lambda r: object_id(stream_name, r), object_id_of(stream_name)),
        tenant_rule(tree.tenant_key, stream_name, "record"),
    ]
