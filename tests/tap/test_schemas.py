"""The generated stream schemas and the stream catalog they come from."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from tap_stripe_aep.record_conventions import TimestampConverter, finalize_record
from tap_stripe_aep.schemas import generated_versions, load_schema
from tap_stripe_aep.stream_catalog import (
    STREAMS,
    STREAMS_BY_NAME,
    STRIPE_API_VERSION,
    UpdateSource,
    all_event_types,
    stream_for_event_type,
    stream_named,
)

pytestmark = pytest.mark.timeout(60)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "tap_stripe_aep" / "schemas"

# The streams of the first release, before issue 9; the tap benchmark's set (bench/bench_tap.py), on which
# the figures in docs/benchmarks.md were measured.
CLASSIC_STREAMS = [
    "customers",
    "charges",
    "payment_intents",
    "refunds",
    "invoices",
    "invoice_items",
    "invoice_line_items",
    "subscriptions",
    "subscription_items",
    "products",
    "prices",
    "plans",
    "coupons",
    "promotion_codes",
    "balance_transactions",
    "payouts",
    "disputes",
    "checkout_sessions",
    "credit_notes",
    "setup_intents",
    "transfers",
    "events",
]
# The stream names fixed by the public interface.
INTERFACE_STREAMS = [
    *CLASSIC_STREAMS,
    # --- issue 9: H7
    "accounts",
    "persons",
    "external_accounts",
    "application_fees",
    "application_fee_refunds",
    "transfer_reversals",
    "top_ups",
    "payout_balance_transactions",
    # --- issue 9: H8
    "customer_balance_transactions",
    "payment_methods",
    "tax_ids",
    "tax_rates",
    "subscription_schedules",
    "quotes",
    "invoice_payments",
    "credit_note_line_items",
    "billing_meters",
    # --- issue 9: H9
    "checkout_session_line_items",
    "payment_links",
    "shipping_rates",
    "setup_attempts",
    "files",
    "file_links",
    "early_fraud_warnings",
    "reviews",
    "issuing_authorizations",
    "issuing_cardholders",
    "issuing_cards",
    "issuing_disputes",
    "issuing_transactions",
]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """The generator script, loaded in-process from its path (scripts/ is not an installed package)."""
    path = REPO_ROOT / "scripts" / "generate_stripe_schemas.py"
    spec = importlib.util.spec_from_file_location("generate_stripe_schemas", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema at a dotted path; `[]` steps into array items (`lines.data[].period.start`)."""
    node = schema
    for part in path.split("."):
        key = part.removesuffix("[]")
        node = node["properties"][key]
        if part.endswith("[]"):
            node = node["items"]
    return node


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def test_checked_in_schemas_match_the_generator(generator: ModuleType) -> None:
    expected = generator.generated_files()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    drifted = sorted(name for name in expected.keys() | on_disk.keys() if expected.get(name) != on_disk.get(name))
    assert not drifted, f"schemas drifted from the generator, run scripts/generate_stripe_schemas.py: {drifted}"
    assert generator.drifted_files() == []


def test_every_interface_stream_has_a_catalog_entry_and_a_schema() -> None:
    assert sorted(STREAMS_BY_NAME) == sorted(INTERFACE_STREAMS)
    assert sorted(path.stem for path in SCHEMA_DIR.glob("[!_]*.json")) == sorted(INTERFACE_STREAMS)


def test_versions_are_recorded_once_and_match_the_pinned_package() -> None:
    versions = generated_versions()
    assert versions["stripe_api_version"] == STRIPE_API_VERSION
    for name in INTERFACE_STREAMS:
        assert STRIPE_API_VERSION in load_schema(name)["$comment"]


@pytest.mark.parametrize("name", INTERFACE_STREAMS)
def test_schema_is_valid_json_schema_with_the_convention_fields(name: str) -> None:
    schema = load_schema(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    properties = schema["properties"]
    assert schema["required"] == ["id"]
    assert properties["id"]["type"] == "string"
    assert properties["updated"]["format"] == "date-time"
    assert _types(properties["is_deleted"]) >= {"boolean"}
    assert _types(properties["account_id"]) >= {"string"}
    created_field = stream_named(name).created_field
    if created_field is not None:
        assert properties[created_field]["format"] == "date-time"


@pytest.mark.parametrize(
    ("stream", "path"),
    [
        ("customers", "created"),
        ("invoices", "period_end"),
        ("invoices", "period_start"),
        ("invoices", "status_transitions.paid_at"),
        ("invoices", "lines.data[].period.start"),
        ("invoice_line_items", "period.end"),
        ("subscriptions", "canceled_at"),
        ("subscriptions", "trial_end"),
        # In this API version the billing period lives on the subscription items, not the subscription.
        ("subscriptions", "items.data[].current_period_start"),
        ("subscription_items", "current_period_end"),
        ("payouts", "arrival_date"),
        ("balance_transactions", "available_on"),
        ("coupons", "redeem_by"),
        ("disputes", "evidence_details.due_by"),
        ("checkout_sessions", "expires_at"),
        ("events", "created"),
    ],
)
def test_epoch_fields_are_date_time_strings(stream: str, path: str) -> None:
    node = _at(load_schema(stream), path)
    assert node["format"] == "date-time", f"{stream}.{path} should be a date-time, got {node}"
    assert _types(node) == {"string", "null"}


@pytest.mark.parametrize(
    ("stream", "path", "kind"),
    [
        ("charges", "amount", "integer"),
        ("charges", "payment_method_details.card.exp_year", "integer"),
        ("prices", "recurring.trial_period_days", "integer"),
        ("prices", "unit_amount_decimal", "string"),
        ("coupons", "duration_in_months", "integer"),
        ("charges", "customer", "string"),  # an ExpandableField: always the id
        ("invoices", "status", "string"),  # a Literal: no enum, Stripe adds values
    ],
)
def test_non_time_fields_keep_their_type(stream: str, path: str, kind: str) -> None:
    node = _at(load_schema(stream), path)
    assert kind in _types(node)
    assert "format" not in node
    assert "enum" not in node


def test_shapes_of_metadata_lists_and_references() -> None:
    invoices = load_schema("invoices")
    assert invoices["properties"]["metadata"]["additionalProperties"] == {"type": "string"}
    lines = invoices["properties"]["lines"]
    assert set(lines["properties"]) == {"object", "data", "has_more", "url", "total_count"}
    assert "never expands" in load_schema("charges")["properties"]["customer"]["description"]
    assert load_schema("subscriptions")["properties"]["cancel_at_period_end"]["type"] == "boolean"


def test_a_converted_stripe_record_validates_against_its_schema() -> None:
    schema = load_schema("invoices")
    record: dict[str, Any] = {
        "id": "in_1",
        "object": "invoice",
        "created": 1_700_000_000,
        "period_end": 1_700_000_100,
        "status": "paid",
        "customer": "cus_1",
        "metadata": {"order": "42"},
        "status_transitions": {"paid_at": 1_700_000_200, "voided_at": None},
        "lines": {
            "object": "list",
            "has_more": False,
            "url": "/v1/invoices/in_1/lines",
            "data": [{"id": "il_1", "object": "line_item", "period": {"start": 1, "end": 2}}],
        },
    }
    finalize_record(
        TimestampConverter.from_schema(schema).convert(record),
        account_id="acct_1",
        updated_epoch=None,
        is_deleted=False,
    )
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(record)]
    assert errors == []
    assert record["updated"] == "2023-11-14T22:13:20Z"
    assert record["lines"]["data"][0]["period"] == {"start": "1970-01-01T00:00:01Z", "end": "1970-01-01T00:00:02Z"}


def test_event_types_are_real_exact_and_owned_by_one_stream() -> None:
    owners: dict[str, str] = {}
    for stream in STREAMS:
        for event_type in stream.event_types:
            assert event_type in all_event_types(), f"{stream.name}: unknown event type {event_type}"
            assert event_type not in owners, f"{event_type} in {owners.get(event_type)} and {stream.name}"
            owners[event_type] = stream.name
        assert set(stream.deletion_event_types) <= set(stream.event_types)
        assert (stream.update_source is UpdateSource.EVENTS) == bool(stream.event_types), stream.name
    assert stream_for_event_type("customer.subscription.updated") == stream_named("subscriptions")
    assert stream_for_event_type("customer.updated") == stream_named("customers")
    assert stream_for_event_type("charge.refund.updated") == stream_named("refunds")
    assert stream_for_event_type("charge.dispute.closed") == stream_named("disputes")
    assert stream_for_event_type("customer.discount.created") is None


def test_wildcards_are_offered_only_where_they_match_exactly() -> None:
    assert stream_named("customers").event_wildcard is None  # would match customer.subscription.*
    assert stream_named("charges").event_wildcard is None  # would match charge.dispute.*
    assert stream_named("invoices").event_wildcard == "invoice.*"
    assert stream_named("subscriptions").event_wildcard == "customer.subscription.*"
    assert stream_named("disputes").event_wildcard == "charge.dispute.*"


def test_catalog_paths_parents_and_deletions() -> None:
    lines = stream_named("invoice_line_items")
    assert (lines.parent, lines.list_path) == ("invoices", "/v1/invoices/{invoice_id}/lines")
    items = stream_named("subscription_items")
    assert (items.parent, items.parent_query_param) == ("subscriptions", "subscription")
    assert stream_named("subscriptions").list_status_all
    assert stream_named("invoice_items").list_path == "/v1/invoiceitems"
    assert stream_named("checkout_sessions").object_name == "checkout.session"
    assert stream_named("customers").can_be_deleted
    assert not stream_named("subscriptions").can_be_deleted  # customer.subscription.deleted = canceled
    assert stream_named("balance_transactions").update_source is UpdateSource.RECENT_CREATED_WINDOW
    assert stream_named("payouts").permission == "rak_payout_read"
    for stream in STREAMS:
        assert stream.permission.startswith("rak_") and stream.permission.endswith("_read")
        assert stream.parent is None or stream.parent in STREAMS_BY_NAME
    with pytest.raises(KeyError, match="unknown Stripe stream 'nope'"):
        stream_named("nope")


def test_generator_check_mode_reports_drift(generator: ModuleType, tmp_path: Path) -> None:
    for name, text in generator.generated_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert generator.drifted_files(tmp_path) == []
    changed = json.loads((tmp_path / "coupons.json").read_text())
    changed["properties"].pop("created")
    (tmp_path / "coupons.json").write_text(json.dumps(changed))
    (tmp_path / "stale.json").write_text("{}")
    (tmp_path / "plans.json").unlink()
    assert generator.drifted_files(tmp_path) == ["coupons.json", "plans.json", "stale.json"]
