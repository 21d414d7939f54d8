"""The compiled mapping (`XdmMapper.map`) gives exactly the bytes of the readable one (`reference_map`).

A seeded randomized corpus built from every stream's sample records, each sent to all three dataset classes (so
every stream meets the profile, event and record mappings), with odd values: missing fields, nulls, wrong types,
odd and invalid currencies, unicode, big integers, long texts, bad e-mails, big metadata, foreign object types,
deletion stubs. For each record both paths must give the same JSON line (or raise the same error) and the same
repairs, and leave the same unplaced fields.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from target_aep.json_lines import encode_line
from target_aep.xdm import build_mapper

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = {
    name: json.loads((ROOT / "xdm" / f"{name}.schema.json").read_text())
    for name in ("stripe-customer-profile", "stripe-commerce-event", "stripe-catalog-record")
}
SAMPLES = {
    path.stem: (data if isinstance(data, list) else [data])
    for path in sorted((ROOT / "tests" / "data_files" / "stripe_records").glob("*.json"))
    for data in [json.loads(path.read_text())]
}
OVERRIDE = {  # an override that excludes part of the tenant block and rewrites some of it
    "fields": {"_acme.stripe.description": "billing_details.address.city | upper", "_acme.stripe.name": "id"},
    "exclude": ["_acme.stripe.metadata", "_acme.stripe.amount"],
}
# The event type chosen by a table (shared with the commerce measure in the compiled form), the constant
# `producedBy` replaced by a source field, and `productListItems` excluded.
EVENT_OVERRIDE = {
    "event_type": {"succeeded": "commerce.checkouts", "deleted": "stripe.gone", "*": "commerce.purchases"},
    "fields": {"producedBy": "object", "commerce.order.purchaseOrderNumber": "metadata.order_no"},
    "exclude": ["productListItems"],
}

ODD_VALUES: list[Any] = [
    None, "", " ", 0, -1, 1.5, True, False, 2**53 + 1, 2**64 + 7, -(2**70), 1e300, "ünïcødé ✓ 日本", "\u2028",
    "x" * 1001, "y" * 257, "z" * 5000, [], {}, [1, "a", None], {"id": "obj_1"}, {"id": 5}, {"nested": {"a": 1}},
    "not-an-email", "a@b", "user@example.com", " padded@example.com ", "2024-13-45T99:99:99Z",
    "2024-05-01T10:00:00Z", "usd", "USD", "usdollars", "jpy", "kwd", "xts", "€€€", "cus_123", "in_1", "sub_9",
]  # fmt: skip
FIELDS = [
    "id", "object", "email", "name", "phone", "description", "memo", "currency", "amount", "amount_refunded",
    "amount_captured", "amount_total", "total", "unit_amount", "customer", "invoice", "subscription", "price",
    "product", "plan", "status", "active", "valid", "created", "updated", "livemode", "is_deleted", "deleted",
    "metadata", "address", "shipping", "receipt_email", "billing_details", "payment_intent", "lines", "items",
    "account_id", "nickname", "type", "code", "captured", "canceled_at", "payment_status", "pricing", "parent",
]  # fmt: skip
OBJECT_TYPES = ["customer", "charge", "event", "product", "price", "plan", "subscription_item", "account", "person",
                "promotion_code", "shipping_rate", "invoice", "card", "", 7]  # fmt: skip


def _mutate(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    record = copy.deepcopy(record)
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        field = rng.choice(FIELDS)
        if roll < 0.25:
            record.pop(rng.choice(list(record)) if record else field, None)
        elif roll < 0.4:
            record[field] = None
        elif roll < 0.85:
            record[field] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif roll < 0.9:
            record["object"] = rng.choice(OBJECT_TYPES)
        else:
            record["metadata"] = {f"k{i}_{rng.random()}": rng.choice(["v" * rng.randint(0, 900), 3, True, None])
                                  for i in range(rng.randint(1, 60))}  # fmt: skip
    if rng.random() < 0.05:
        record = {"id": record.get("id"), "is_deleted": True, "updated": record.get("updated")}
    return record


def _outcome(mapper: Any, record: dict[str, Any], fast: bool) -> tuple[str, Any, Any]:
    try:
        line = encode_line(mapper.map(record) if fast else mapper.reference_map(record))
        return "ok", line, mapper.take_repairs()  # and the same repairs, in the same order
    except Exception as exc:  # the sink dead-letters a mapping error with this text: it must be the same too
        return "error", f"{type(exc).__name__}: {exc}", mapper.take_repairs()


@pytest.mark.parametrize("override", [None, OVERRIDE, EVENT_OVERRIDE], ids=["default", "override", "event-override"])
def test_compiled_mapping_equals_the_reference_byte_for_byte(override: dict[str, Any] | None) -> None:
    rng = random.Random(20260611 if override is None else 7 if override is OVERRIDE else 11)
    compared = repaired = 0
    for stream, samples in SAMPLES.items():
        for schema in SCHEMAS.values():
            if override is EVENT_OVERRIDE and "experienceevent" not in schema.get("meta:class", ""):
                continue  # `producedBy` and `commerce` exist in the event schema only
            fast = build_mapper(stream, schema, tenant_id="acme", override=override)
            reference = build_mapper(stream, schema, tenant_id="acme", override=override, reference=True)
            assert fast.map != fast.reference_map and reference.map == reference.reference_map
            for _ in range(60 if override is None else 20 if override is OVERRIDE else 45):
                record = _mutate(rng.choice(samples), rng)
                expected, got = _outcome(reference, record, False), _outcome(fast, record, True)
                assert got == expected, (stream, schema.get("title"), record)
                compared += 1
                repaired += bool(got[2])
            assert fast.unplaced_fields() == reference.unplaced_fields(), stream
    assert compared > 2000 and repaired > compared // 10  # the corpus does exercise the repair branches


def test_the_comparison_sees_a_one_byte_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above must be able to fail: a compiled tenant block that cuts names one character shorter is
    caught on the first long name."""
    from target_aep.xdm import tenant_compiled

    original = tenant_compiled._name_source
    monkeypatch.setattr(tenant_compiled, "_name_source", lambda t: original(t).replace("256", "255"))
    mapper = build_mapper("products", SCHEMAS["stripe-catalog-record"], tenant_id="acme")
    record = {**SAMPLES["products"][0], "name": "n" * 300}
    assert _outcome(mapper, record, True) != _outcome(mapper, record, False)


def test_values_proven_to_fit_are_fitted_as_usual_where_the_schema_is_stricter() -> None:
    """`_id` and `identityMap` skip fitting only where the schema takes any of them as is: a schema whose `_id`
    is at most 20 characters and whose identity ids must start with `cus_` gets them fitted (and reported) as the
    reference mapping does."""
    schema = copy.deepcopy(SCHEMAS["stripe-commerce-event"])
    schema["properties"]["_id"]["maxLength"] = 20
    identity = schema["properties"]["identityMap"]["additionalProperties"]["items"]["properties"]["id"]
    identity["pattern"] = "^cus_"
    fast = build_mapper("charges", schema, tenant_id="acme")
    reference = build_mapper("charges", schema, tenant_id="acme", reference=True)
    record = {**SAMPLES["charges"][0], "receipt_email": "someone@example.com"}
    got, expected = _outcome(fast, record, True), _outcome(reference, record, False)
    assert got == expected
    xdm = json.loads(got[1])
    assert len(xdm["_id"]) == 20 and "id" not in xdm["identityMap"]["Email"][0]
    assert {repair.xdm_path for repair in got[2]} >= {"_id", "identityMap.Email[].id"}


def _reference_fit(value: Any, node: Any, path: str, on_drop: Any) -> Any:
    """Fitting as the readable definition: `_fit_scalar` for every leaf, objects, maps and arrays key by key."""
    from target_aep.xdm import fitting

    if value is None:
        return fitting.DROP
    if node.kind in ("object", "map"):
        if not isinstance(value, dict):
            on_drop(path, "dropped", fitting._wrong_type("an object", value))
            return fitting.DROP
        fitted = {}
        for key, sub in value.items():
            child = node.values if node.kind == "map" else node.properties.get(key)
            if sub is not None and child is None:
                on_drop(f"{path}.{key}", "dropped", fitting.NO_PLACE)
            elif sub is not None:
                result = _reference_fit(sub, child, f"{path}.{key}", on_drop)
                if result is not fitting.DROP:
                    fitted[str(key) if node.kind == "map" else key] = result
        if not fitted:
            return fitting.DROP
        if node.kind == "object" and (
            (fitted.keys() == {"primary"} and "primary" in node.properties)
            or any(key not in fitted for key in node.required)
        ):
            on_drop(path, "dropped", fitting.INCOMPLETE)
            return fitting.DROP
        return fitted
    if node.kind == "array":
        if not isinstance(value, list):
            on_drop(path, "dropped", fitting._wrong_type("a list", value))
            return fitting.DROP
        kept = [_reference_fit(item, node.values, f"{path}[]", on_drop) for item in value]
        kept = [item for item in kept if item is not fitting.DROP]
        return kept if kept else fitting.DROP
    return fitting._fit_scalar(value, node, path, on_drop)


def _object_nodes(node: Any, path: str) -> Any:
    if node.kind == "object":
        yield path, node
    children = node.properties.items() if node.kind == "object" else [("[]", node.values)] if node.values else []
    for key, child in children:
        yield from _object_nodes(child, f"{path}.{key}" if key != "[]" else f"{path}[]")


def test_compiled_fitters_equal_the_readable_fitting() -> None:
    """Every object node of the three schemas (the commerce block, the order, payments, addresses, identities...)
    fitted by its compiled fitters (`fitting.fitter_for`, with its fast paths and its cache of strings seen to fit,
    and `keyed_fitter_for`, straight-line per key sequence) and by the readable definition above: same value, same
    key order, same reports. The mapping comparison above
    cannot see a fitter's fault: `reference_map` uses the same fitters."""
    from target_aep.xdm.fitting import fitter_for, keyed_fitter_for
    from target_aep.xdm.schema_tree import SchemaTree

    rng = random.Random(5)
    good = ["USD", "EUR", "2024-05-01T10:00:00Z", "https://example.com/x", 12, 10.99, True, "ok", "a" * 300]
    checked = 0
    for schema in SCHEMAS.values():
        nodes = list(_object_nodes(SchemaTree(schema, tenant_id="acme").root, "x"))
        # the straight-line fitters per sequence of keys (`keyed_fitter_for`), each built once per node: values
        # come back with the same keys, so most of them are fitted by code generated for their key sequence
        keyed = {path: keyed_fitter_for(node) for path, node in nodes}
        for path, node in nodes:
            keys = [*node.properties, "unknown_key"]
            for _ in range(40):  # values come back: the second time a string is in the cache of those that fit
                value = {
                    key: copy.deepcopy(rng.choice(ODD_VALUES + good)) for key in rng.sample(keys, min(6, len(keys)))
                }
                slow: list[tuple[str, ...]] = []
                expected = _reference_fit(value, node, path, lambda *report, into=slow: into.append(report))
                for fitter in (fitter_for(node), keyed[path]):
                    fast: list[tuple[str, ...]] = []
                    got = fitter(value, path, lambda *report, into=fast: into.append(report))
                    assert (json.dumps(got, default=repr), fast) == (json.dumps(expected, default=repr), slow), path
                checked += 1
    assert checked > 1000


def test_the_unrolled_email_reader_equals_the_readable_one() -> None:
    """`events.record_email` is generated from the list of e-mail paths; `readable_record_email` walks the list.
    Records with an e-mail (or an odd value) at each path, alone and together, give the same e-mail."""
    from target_aep.xdm.events import _EMAIL_PATHS, readable_record_email, record_email

    rng = random.Random(3)
    checked = 0
    for stream_samples in SAMPLES.values():
        for sample in stream_samples:
            for _ in range(10):
                record = _mutate(sample, rng)
                for path in rng.sample(_EMAIL_PATHS, rng.randint(0, len(_EMAIL_PATHS))):
                    first, *rest = path.split(".")
                    value: Any = rng.choice(ODD_VALUES)
                    for part in reversed(rest):
                        value = {part: value} if rng.random() < 0.9 else value
                    record[first] = value
                assert record_email(record) == readable_record_email(record), record
                checked += 1
    assert checked > 500


def test_a_stream_mapping_is_compiled_once_on_its_first_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built at start-up, compiled on the first record, once, even for a caller that kept the first `map`."""
    from target_aep.xdm.mapper import XdmMapper

    compiles: list[str] = []
    original = XdmMapper._compile_map
    monkeypatch.setattr(XdmMapper, "_compile_map", lambda self: compiles.append(self.stream_name) or original(self))
    mapper = build_mapper("charges", SCHEMAS["stripe-commerce-event"], tenant_id="acme")
    assert compiles == []
    kept = mapper.map
    first, again = kept(SAMPLES["charges"][0]), kept(SAMPLES["charges"][0])
    assert compiles == ["charges"] and first == again == mapper.map(SAMPLES["charges"][0])
    assert first["_acme"]["stripe"]["objectType"] == "charge"


def _order_outcome(build: Any, record: dict[str, Any]) -> tuple[str, str]:
    try:
        return "ok", json.dumps(build(record))  # the same keys in the same order, the same values and types
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def test_generated_order_builders_equal_the_readable_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stream's order generated from `ORDER_SPECS` (`order_compiled`) gives what the readable builder (the
    table read by `order_value`) gives, error text included, on every stream's odd records; and a generated
    condition changed by one character (`> 0` to `>= 0`: a charge refunded 0 would get a refund total) is seen."""
    from target_aep.xdm import order_compiled
    from target_aep.xdm.commerce import ORDER_BUILDERS, ORDER_SPECS

    rng = random.Random(17)
    records = [_mutate(rng.choice(samples), rng) for samples in SAMPLES.values() for _ in range(12)]
    for stream in ORDER_SPECS:
        generated = order_compiled.compiled_order_builder(stream)
        for record in [*records, *(_mutate(sample, rng) for sample in SAMPLES.get(stream, []) for _ in range(20))]:
            assert _order_outcome(generated, record) == _order_outcome(ORDER_BUILDERS[stream], record), stream
    original = order_compiled._Writer.condition
    monkeypatch.setattr(order_compiled._Writer, "condition", lambda self, c: original(self, c).replace("> 0", ">= 0"))
    broken = order_compiled.compiled_order_builder("charges")
    record = {**SAMPLES["charges"][0], "amount_refunded": 0}
    assert _order_outcome(broken, record) != _order_outcome(ORDER_BUILDERS["charges"], record)


ORDER_FIELDS = [
    "payment_intent", "charge", "invoice", "id", "currency", "amount", "amount_captured", "amount_refunded", "total",
    "amount_paid", "amount_total", "amount_received", "status", "payment_status", "captured", "created", "updated",
    "number", "is_deleted", "total_taxes", "total_details", "latest_charge", "fee", "transfer", "credit_note",
]  # fmt: skip


def _stricter_commerce(schema: dict[str, Any]) -> dict[str, Any]:
    """The event schema with a commerce block that fits less as is: a short purchase id, payments by PayPal only,
    a transaction id that must be a charge's, a price total up to 5, no `purchases` measure, a short cart id."""
    schema = copy.deepcopy(schema)
    commerce = schema["properties"]["commerce"]["properties"]
    order = commerce["order"]["properties"]
    order["purchaseID"]["maxLength"] = 8
    order["priceTotal"]["maximum"] = 5
    order["payments"]["items"]["properties"]["paymentType"]["enum"] = ["paypal"]
    order["payments"]["items"]["properties"]["transactionID"]["pattern"] = "^ch_"
    order["refunds"]["items"]["properties"]["refundAmount"]["minimum"] = 1
    del commerce["purchases"]
    commerce["cart"]["properties"]["cartID"]["maxLength"] = 3
    return schema


def test_fitted_commerce_blocks_equal_the_readable_ones() -> None:
    """The commerce block built and fitted in one generated function per stream (`events.compile_commerce`,
    `order_compiled.fitted_order_source`) gives the bytes and reports of the readable mapping (the order built,
    then the block fitted key by key), error text included, on every order stream's odd records, in the event
    schema and in a stricter one where most fields must be fitted (truncated, dropped, out of range, no place)."""
    from target_aep.xdm import order_compiled
    from target_aep.xdm.commerce import ORDER_SPECS

    rng = random.Random(23)
    compared = repaired = 0
    for schema in (SCHEMAS["stripe-commerce-event"], _stricter_commerce(SCHEMAS["stripe-commerce-event"])):
        for stream in [*ORDER_SPECS, "top_ups", "events"]:  # and a builder kept as a function, a stream without
            fast = build_mapper(stream, schema, tenant_id="acme")
            reference = build_mapper(stream, schema, tenant_id="acme", reference=True)
            for _ in range(80):
                record = _mutate(rng.choice(SAMPLES[stream]), rng)
                for field in rng.sample(ORDER_FIELDS, rng.randint(0, 4)):
                    record[field] = copy.deepcopy(rng.choice(ODD_VALUES))
                expected, got = _outcome(reference, record, False), _outcome(fast, record, True)
                assert got == expected, (stream, record)
                compared += 1
                repaired += any(repair.xdm_path.startswith("commerce") for repair in got[2])
    assert compared > 3000 and repaired > compared // 5
    # a list whose entries may have either key sequence is not fitted as one sequence (no such spec today)
    mixed = ("if", ("truthy", "captured"), ("payment", ("get", "id"), "amount"), ("refund", "amount"))
    assert order_compiled._entry_keys(mixed) is None and order_compiled._entry_keys(mixed[:3]) is not None


def test_the_per_stream_event_type_equals_the_readable_one() -> None:
    """`event_types.event_type_of(stream)`, what both forms of the mapping call for every record, gives what
    `default_event_type(stream, record)` gives, on every stream's odd records (states, deletions, foreign types)."""
    from target_aep.xdm.event_types import EVENT_TYPES, default_event_type, event_type_of

    rng = random.Random(29)
    checked = 0
    for stream in [*SAMPLES, "unknown_stream"]:
        choose = event_type_of(stream)
        for _ in range(60):
            record = _mutate(rng.choice(SAMPLES.get(stream) or SAMPLES["charges"]), rng)
            for field in rng.sample(["status", "refunded", "reversed", "open", "type", "object"], rng.randint(0, 2)):
                record[field] = rng.choice([*ODD_VALUES, "charge", "transfer", "review", "paid", "canceled"])
            assert choose(record) == default_event_type(stream, record), (stream, record)
            checked += 1
    assert checked > 3000 and any("*" in table for table in EVENT_TYPES.values())
