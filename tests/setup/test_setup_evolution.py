"""An existing field group only grows; a destructive difference is reported and left alone; a resource that
cannot be reused (a namespace code of another type) leaves the sandbox not ready, saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from target_aep.setup.desired import DEMOGRAPHIC_DETAILS, IDENTITY_MAP, PERSONAL_CONTACT_DETAILS, Names
from target_aep.setup.field_group import field_group_body
from target_aep.xdm.schema_tree import EVENT_CLASS, PROFILE_CLASS
from tests.setup.conftest import AEP, run_setup

pytestmark = pytest.mark.timeout(120)

NAMES = Names()


def _stripe_fields(stored: dict) -> dict:
    for definition in stored["definitions"].values():
        block = definition.get("properties", {}).get("_acme")
        if block:
            return block["properties"]["stripe"]["properties"]
    raise AssertionError("no _acme.stripe in the field group")


def _create_group(aep: AEP, sandbox: str, edit: object) -> dict:
    """A "Stripe Object Details" field group made by hand (through the real API), then edited by ``edit``."""
    body = field_group_body(
        title=NAMES.field_group, description="made by hand", tenant="acme", class_ids=[PROFILE_CLASS, EVENT_CLASS]
    )
    stripe = body["definitions"]["stripeObjectDetails"]["properties"]["_acme"]["properties"]["stripe"]["properties"]
    edit(stripe)  # type: ignore[operator]
    api = aep.api(sandbox)
    created = api.create_resource("fieldgroups", body)
    return _stripe_fields(api.resource("fieldgroups", created["$id"]))


def _group_now(aep: AEP, sandbox: str) -> dict:
    api = aep.api(sandbox)
    [group] = api.find_resources("fieldgroups", NAMES.field_group)
    return _stripe_fields(api.resource("fieldgroups", group["$id"]))


def test_a_field_group_missing_fields_is_extended_never_rewritten(aep: AEP, tmp_path: Path) -> None:
    def trim(fields: dict) -> None:
        del fields["priceId"], fields["metadata"], fields["amountRefunded"]
        fields["loyaltyTier"] = {"title": "Loyalty tier", "type": "string"}  # the customer's own field
        fields["name"]["description"] = "Our own wording"

    before = _create_group(aep, "evolve", trim)

    run = run_setup(aep.config(tmp_path, "evolve"), "--apply")

    assert run.returncode == 0, run.stderr
    assert "add 3 field(s) to _acme.stripe: metadata, amountRefunded, priceId" in run.stdout
    after = _group_now(aep, "evolve")
    assert {"priceId", "metadata", "amountRefunded"} <= set(after)
    assert after["metadata"]["meta:xdmType"] == "map"
    for name, definition in before.items():  # nothing that was there is removed or rewritten
        assert after[name] == definition, name


def test_a_schema_missing_field_groups_gets_them_added(aep: AEP, tmp_path: Path) -> None:
    api = aep.api("grow")
    schema = api.create_resource(  # a profile schema made by hand, with the class and IdentityMap only
        "schemas",
        {
            "title": NAMES.profile_schema,
            "description": "made by hand",
            "type": "object",
            "allOf": [{"$ref": PROFILE_CLASS}, {"$ref": IDENTITY_MAP}],
        },
    )

    run = run_setup(aep.config(tmp_path, "grow"), "--apply")

    assert "add field group(s): Demographic Details, Personal Contact Details, Stripe Object Details" in run.stdout
    assert run.returncode == 0, run.stderr
    [found] = api.find_resources("schemas", NAMES.profile_schema)
    assert found["$id"] == schema["$id"], "the schema was replaced, not extended"
    parts = {part["$ref"] for part in api.resource("schemas", schema["$id"])["allOf"]}
    assert {PROFILE_CLASS, IDENTITY_MAP, DEMOGRAPHIC_DETAILS, PERSONAL_CONTACT_DETAILS} <= parts


def test_a_destructive_difference_is_reported_and_not_applied(aep: AEP, tmp_path: Path) -> None:
    def retype(fields: dict) -> None:
        fields["amount"] = {"title": "Amount", "type": "string", "meta:xdmType": "string"}

    _create_group(aep, "destroy", retype)
    config = aep.config(tmp_path, "destroy")

    plan = run_setup(config)
    applied = run_setup(config, "--apply")

    for run in (plan, applied):
        assert "will not touch: amount: string here, long in the mapping" in run.stdout, run.stdout
    assert applied.returncode == 0, applied.stderr
    assert _group_now(aep, "destroy")["amount"]["type"] == "string"
    # Everything else was still made: the difference is left to a person, not a reason to stop.
    assert "Ready: sandbox 'destroy'" in applied.stdout
    assert aep.api("destroy").datasets_named(NAMES.event_dataset)


def test_a_namespace_code_taken_by_another_type_leaves_the_sandbox_not_ready(aep: AEP, tmp_path: Path) -> None:
    api = aep.api("conflict")
    api.create_namespace({"name": "Stripe e-mails", "code": "StripeCustomerId", "idType": "Email"})
    config = aep.config(tmp_path, "conflict")

    run = run_setup(config, "--apply", "--datasets-out", str(tmp_path / "datasets.json"))

    assert run.returncode == 1
    [line] = run.stderr.strip().splitlines()
    assert "identity namespace 'StripeCustomerId'" in line and "set customer_identity_namespace" in line, line
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "datasets.json").exists()
    # The plan said what it made before stopping short: the rest of the sandbox is there.
    assert api.datasets_named(NAMES.profile_dataset)
    codes = [n for n in api.namespaces() if n["code"] == "StripeCustomerId"]
    assert len(codes) == 1 and codes[0]["idType"].upper() == "EMAIL"

    fixed = run_setup(aep.config(tmp_path, "conflict", customer_identity_namespace="StripeCustomer"), "--apply")
    assert fixed.returncode == 0, fixed.stderr
    assert "created identity namespace 'StripeCustomer'" in fixed.stdout
