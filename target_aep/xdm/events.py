"""Stripe money movements and lifecycle objects -> XDM ExperienceEvent (also the generic event mapping)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from target_aep.xdm.commerce import ORDER_BUILDERS, has_product_list, product_list_items
from target_aep.xdm.currency import currency_code
from target_aep.xdm.event_types import commerce_measure
from target_aep.xdm.fitting import DROP, NO_PLACE, DropHandler, keyed_fitter_for
from target_aep.xdm.generated_code import define
from target_aep.xdm.identities import (
    event_id,
    event_id_of,
    identity_map,
    identity_map_rule,
    note_unusable_email,
    xdm_id_rule,
)
from target_aep.xdm.order_compiled import compiled_fitted_order, compiled_order_builder
from target_aep.xdm.repairs import DROPPED, RepairLog
from target_aep.xdm.rules import FieldRule, Proven, computed, constant
from target_aep.xdm.schema_tree import SchemaNode, SchemaTree
from target_aep.xdm.stripe_fields import customer_id, object_type, ref_id
from target_aep.xdm.tenant import tenant_rule

EventTypeChooser = Callable[[dict[str, Any]], str]

# Where each object keeps an e-mail address, a secondary identity that helps stitching.
_EMAIL_PATHS = ("receipt_email", "billing_details.email", "customer_email", "customer_details.email", "email")


_EMAIL_STEPS = tuple((path.split(".")) for path in _EMAIL_PATHS)


def readable_record_email(record: dict[str, Any]) -> str | None:
    """The first e-mail found at `_EMAIL_PATHS` (as `get_path` reads each): the definition of `record_email`."""
    for first, *rest in _EMAIL_STEPS:
        value = record.get(first)
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _email_reader() -> Callable[[dict[str, Any]], str | None]:
    """`readable_record_email` unrolled from `_EMAIL_STEPS` into straight-line code (run for every event: no
    loop, no list of steps per record); a test compares the two."""
    lines = ["def record_email(record):\n", "    get = record.get\n"]
    for first, *rest in _EMAIL_STEPS:
        lines.append(f"    value = get({first!r})\n")
        for part in rest:
            lines.append(f"    value = value.get({part!r}) if isinstance(value, dict) else None\n")
        lines.append("    if isinstance(value, str) and value:\n        return value\n")
    lines.append("    return None\n")
    return define("".join(lines), "record_email", {}, "<record_email>")  # type: ignore[no-any-return]


record_email = _email_reader()


def event_timestamp(record: dict[str, Any]) -> Any:
    """An event is a point in time: the change the tap saw (`updated`), else the object's `created`."""
    return record.get("updated") or record.get("created")


# fitted(record, repairs, on_drop, shared value) -> the rule's value already fitted, or None / DROP
FittedWithShared = Callable[[dict[str, Any], RepairLog, DropHandler, Any], Any]
# key_fitter(value, on_drop) -> the value of one key of an object, fitted as that object's fitting fits it
KeyFitter = Callable[[Any, DropHandler], Any]


def _key_fitter(node: SchemaNode, key: str, path: str) -> KeyFitter:
    """How the fitting of an object at `node` treats its key `key`: the child's fitter, or a report of no place."""
    child = node.properties.get(key)
    key_path = f"{path}.{key}"
    if child is None:

        def no_place(value: Any, on_drop: DropHandler) -> Any:
            if value is not None:
                on_drop(key_path, DROPPED, NO_PLACE)
            return DROP

        return no_place
    fit = keyed_fitter_for(child)
    return lambda value, on_drop: DROP if value is None else fit(value, key_path, on_drop)


def _fits_unchanged(fit: KeyFitter, value: Any) -> bool:
    """Whether `fit` gives back `value` (a constant) as it is, to the type (`repr`: 1 is not 1.0), reporting nothing."""
    reported: list[str] = []
    return repr(fit(value, lambda where, *_: reported.append(where))) == repr(value) and not reported


def event_rules(
    tree: SchemaTree, stream_name: str, identity_namespace: str, choose_event_type: EventTypeChooser
) -> list[FieldRule]:
    """Rules for any stream in an ExperienceEvent dataset; streams with lines or money get commerce fields."""

    builder = ORDER_BUILDERS.get(stream_name)

    measures: dict[str, str | None] = {}  # `commerce_measure` of each event type met (a stream has a few)
    is_checkout = stream_name == "checkout_sessions"

    def commerce(record: dict[str, Any], event_type: str) -> dict[str, Any] | None:
        order = builder(record) if builder is not None and not record.get("is_deleted") else None
        return with_measure_and_cart({"order": order} if order else {}, record, event_type) or None

    def measure_of(event_type: str) -> str | None:
        measure = measures.get(event_type, "")
        if measure == "":
            measure = commerce_measure(event_type)
            if len(measures) < 1024:
                measures[event_type] = measure
        return measure

    def with_measure_and_cart(block: dict[str, Any], record: dict[str, Any], event_type: str) -> dict[str, Any]:
        """The commerce block after its order: the event type's measure, a checkout's cart."""
        measure = measure_of(event_type)
        if measure:
            block[measure] = {"value": 1}
        if is_checkout:
            block["cart"] = {"cartID": record.get("id")}
        return block

    own_type = object_type({}, stream_name)
    # For the stream's own object type, unless a customer or a Stripe event, `customer_id` is the `customer` field's
    # id: read directly when the record says it is of that type.
    plain_customer = own_type not in ("customer", "event")

    def identities(record: dict[str, Any], repairs: RepairLog) -> Any:
        if plain_customer and record.get("object") == own_type:
            customer = ref_id(record.get("customer")) or None
        else:
            customer = customer_id(record, object_type(record, stream_name))
        email = record_email(record)
        identities = identity_map(identity_namespace, customer, email)
        note_unusable_email(repairs, email, identities)
        return identities

    def commerce_fields(record: dict[str, Any], repairs: RepairLog) -> dict[str, Any] | None:
        return commerce_of_type(record, repairs, choose_event_type(record))

    def commerce_of_type(record: dict[str, Any], repairs: RepairLog, event_type: str) -> dict[str, Any] | None:
        block = commerce(record, event_type)
        currency = record.get("currency")
        if block and "order" in block and currency and currency_code(currency) is None:
            # Records whose amounts need it are dead-lettered before mapping; here no amount depends on it.
            repairs.dropped("currency", "commerce.order.currencyCode", "not an ISO 4217 currency code")
        return block

    # The compiled mapping's form of `commerce_of_type`: the order from the generated builder of the stream's
    # `ORDER_SPECS` (`order_compiled`, generated on the stream's first record), the rest written out.
    fast_builder: list[Any] = []  # [the order builder], once generated

    def fast_commerce_of_type(record: dict[str, Any], repairs: RepairLog, event_type: str) -> dict[str, Any] | None:
        if not fast_builder:
            fast_builder.append(compiled_order_builder(stream_name) or builder)
        build = fast_builder[0]
        order = build(record) if build is not None and not record.get("is_deleted") else None
        block = with_measure_and_cart({"order": order} if order else {}, record, event_type)
        if order:
            currency = record.get("currency")
            if currency and currency_code(currency) is None:
                repairs.dropped("currency", "commerce.order.currencyCode", "not an ISO 4217 currency code")
        return block or None

    def compile_commerce(node: SchemaNode, path: str) -> FittedWithShared | None:
        """`fast_commerce_of_type` and the fitting of its block to `node` in one: the order built and fitted by
        its generated function (`order_compiled.compiled_fitted_order`), the measure `{"value": 1}` placed as it
        is where its node takes it unchanged (decided once per measure), a checkout's cart fitted. Same block,
        same reports in the same order as fitting the block `fast_commerce_of_type` builds; None (the mapping
        then builds and fits apart) for a stream whose order stays a function or a node asking for more."""
        if node.kind != "object" or node.required or "primary" in node.properties:
            return None
        fitted_order = None
        if builder is not None:
            order_node = node.properties.get("order")
            if order_node is None:
                return None
            fitted_order = compiled_fitted_order(stream_name, order_node, f"{path}.order")
            if fitted_order is None:
                return None
        # measure -> its fitter, or None where `{"value": 1}` fits its node unchanged with nothing reported
        measure_fitters: dict[str, KeyFitter | None] = {}
        cart_fitter = _key_fitter(node, "cart", path)

        def fitted_commerce(record: dict[str, Any], repairs: RepairLog, on_drop: DropHandler, event_type: str) -> Any:
            block = {}
            if fitted_order is not None and not record.get("is_deleted"):
                order = fitted_order(record, repairs, on_drop)
                if order:
                    block["order"] = order
            measure = measure_of(event_type)
            if measure:
                if measure in measure_fitters:
                    fit = measure_fitters[measure]
                else:
                    fit = _key_fitter(node, measure, path)
                    fit = measure_fitters[measure] = None if _fits_unchanged(fit, {"value": 1}) else fit
                if fit is None:
                    block[measure] = {"value": 1}
                elif (fitted := fit({"value": 1}, on_drop)) is not DROP:
                    block[measure] = fitted
            if is_checkout and (cart := cart_fitter({"cartID": record.get("id")}, on_drop)) is not DROP:
                block["cart"] = cart
            return block or None

        return fitted_commerce

    def items_for_stream(_node: SchemaNode, _path: str) -> Proven | None:
        return None if has_product_list(stream_name) else Proven(never=True)

    # `event_id_of(stream)` is `event_id` for this stream in the compiled mapping's form (compared by the test).
    # The event type is chosen once per record and shared with the commerce block (`FieldRule.shares`).
    return [
        xdm_id_rule(("id", "updated", "is_deleted"), lambda r: event_id(stream_name, r), event_id_of(stream_name)),
        computed("timestamp", ("updated", "created"), event_timestamp),
        replace(computed("eventType", ("status", "is_deleted"), choose_event_type), shares="event_type"),
        constant("producedBy", "system"),
        identity_map_rule(identity_namespace, identities, ("customer", "receipt_email")),
        FieldRule(
            "commerce",
            commerce_fields,
            ("amount", "currency", "payment_intent", "invoice"),
            with_shared=("event_type", fast_commerce_of_type),
            compile_fitted_shared=compile_commerce,
        ),
        FieldRule(
            "productListItems",
            lambda r, repairs: product_list_items(stream_name, r, repairs),
            ("lines", "items", "price"),
            compile_fitted=items_for_stream,
        ),
        tenant_rule(tree.tenant_key, stream_name, "experienceevent"),
    ]
