"""Every repair traced (issue 11): each value the target leaves out or alters to fit the schema is a line of the
repairs file (stream, Stripe id, field, action, reason, `_id`) and a count by reason in the run summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.target.conftest import AEP, CLIENT_SECRET, DATA_FILES, DATASET_BY_CLASS, run_target
from tests.target.write_singer_files import schema_message

pytestmark = pytest.mark.timeout(90)
PROFILES = DATASET_BY_CLASS["profile"]
EVENTS = DATASET_BY_CLASS["experienceevent"]


def _sample(stream: str) -> dict:
    data = json.loads((DATA_FILES / "stripe_records" / f"{stream}.json").read_text())
    return dict(data[0] if isinstance(data, list) else data)


def test_each_repaired_value_is_traced_per_record(aep: AEP, tmp_path: Path) -> None:
    customer = _sample("customers")
    bad_email = {**customer, "id": "cus_repair_email", "email": "not-an-email"}
    # A secret in a dropped value must not reach the repairs file (lines never hold values).
    secret_email = {**customer, "id": "cus_repair_secret", "email": f"{CLIENT_SECRET} x"}
    long_text = {**customer, "id": "cus_repair_long", "description": "d" * 1500}
    fine = {**customer, "id": "cus_repair_fine"}
    charge = {**_sample("charges"), "id": "ch_repair_meta", "metadata": {f"k{i:02d}": "v" * 500 for i in range(12)}}
    messages = [schema_message("customers"), schema_message("charges")]
    messages += [
        {"type": "RECORD", "stream": "customers", "record": r} for r in (bad_email, secret_email, long_text, fine)
    ]
    messages += [{"type": "RECORD", "stream": "charges", "record": charge}, {"type": "STATE", "value": {"n": 1}}]
    config = aep.config(tmp_path, datasets={"customers": {"dataset_id": PROFILES}, "charges": {"dataset_id": EVENTS}})
    run = run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states == [{"n": 1}]

    text = (tmp_path / "repairs.jsonl").read_text()
    assert CLIENT_SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    by_id: dict[str, list[dict]] = {}
    for line in lines:
        by_id.setdefault(line["id"], []).append(line)
    assert "cus_repair_fine" not in by_id  # nothing altered, nothing written

    landed = {r["_acme"]["stripe"]["id"]: r for r in aep.landed(PROFILES) if "_acme" in r}
    email_line = next(line for line in by_id["cus_repair_email"] if line["field"]["xdm"] == "personalEmail.address")
    assert email_line == {
        "stream": "customers",
        "id": "cus_repair_email",
        "field": {"stripe": "email", "xdm": "personalEmail.address"},
        "action": "dropped",
        "reason": "not a valid email",
        "_id": landed["cus_repair_email"]["_id"],
    }
    assert "personalEmail" not in landed["cus_repair_email"]  # landed, without the e-mail
    assert {(line["field"]["xdm"], line["reason"]) for line in by_id["cus_repair_email"]} >= {
        ("identityMap.Email", "not a valid email address")
    }

    (cut,) = by_id["cus_repair_long"]
    assert (cut["action"], cut["field"], cut["reason"]) == (
        "truncated",
        {"stripe": "description", "xdm": "_acme.stripe.description"},
        "over-long text cut to 1000 characters",
    )
    assert len(landed["cus_repair_long"]["_acme"]["stripe"]["description"]) == 1000

    guardrail = [line for line in by_id["ch_repair_meta"] if line["reason"].startswith("metadata beyond")]
    assert [line["field"]["stripe"] for line in guardrail] == ["metadata.k07", "metadata.k08", "metadata.k09",
                                                               "metadata.k10", "metadata.k11"]  # fmt: skip
    (event,) = [r for r in aep.landed(EVENTS) if r["_acme"]["stripe"]["id"] == "ch_repair_meta"]
    assert sorted(event["_acme"]["stripe"]["metadata"]) == [f"k{i:02d}" for i in range(7)]
    assert all(line["_id"] == event["_id"] for line in by_id["ch_repair_meta"])

    # The run summary counts them per stream and reason, with example ids.
    assert "stream customers: 7 values repaired to fit the schema: " in run.stderr, run.stderr[-3000:]
    assert "not a valid email (2, e.g. cus_repair_email, cus_repair_secret)" in run.stderr
    assert "stream charges: 5 values repaired to fit the schema: metadata beyond the size guardrail" in run.stderr


def test_an_unwritable_repairs_path_fails_before_anything_is_sent(aep: AEP, tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file, not a directory")
    config = aep.config(
        tmp_path, datasets={"customers": {"dataset_id": PROFILES}}, repairs_path=str(tmp_path / "blocked" / "r.jsonl")
    )
    before = aep.landed_counts()
    text = (
        json.dumps(schema_message("customers"))
        + "\n"
        + json.dumps({"type": "RECORD", "stream": "customers", "record": _sample("customers")})
        + "\n"
    )
    run = run_target(config, text, tmp_path)
    assert run.returncode == 1
    assert "repairs_path" in run.stderr and "cannot be written" in run.stderr and "Traceback" not in run.stderr
    assert aep.landed_counts() == before


def test_three_letters_that_are_no_currency_are_traced_and_money_without_one_is_dead_lettered(
    aep: AEP, tmp_path: Path
) -> None:
    """`xyz` looks like a code but is no ISO 4217 currency: never landed as `XYZ`.

    A subscription with no amount of its own lands without `currencyCode`, and its repairs line says why; a
    checkout session whose only amounts are in `total_details` (no `amount_total`) is dead-lettered, since its
    discount would land in an unknown unit.
    """
    subscription = {**_sample("subscriptions"), "id": "sub_not_iso", "currency": "xyz"}
    subscription["items"] = {"object": "list", "data": [], "has_more": False}
    session = {**_sample("checkout_sessions"), "id": "cs_not_iso", "currency": "xyz", "amount_total": None}
    session.pop("amount_subtotal", None)
    messages = [schema_message("subscriptions"), schema_message("checkout_sessions")]
    messages += [
        {"type": "RECORD", "stream": "subscriptions", "record": subscription},
        {"type": "RECORD", "stream": "checkout_sessions", "record": session},
        {"type": "STATE", "value": {"n": 2}},
    ]
    datasets = {"subscriptions": {"dataset_id": EVENTS}, "checkout_sessions": {"dataset_id": EVENTS}}
    run = run_target(aep.config(tmp_path, datasets=datasets), "".join(json.dumps(m) + "\n" for m in messages), tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states == [{"n": 2}]

    landed = {r["_acme"]["stripe"]["id"]: r for r in aep.landed(EVENTS)}
    assert "cs_not_iso" not in landed
    order = landed["sub_not_iso"]["commerce"]["order"]
    assert "currencyCode" not in order and order["purchaseID"] == "sub_not_iso"
    repairs = [json.loads(line) for line in (tmp_path / "repairs.jsonl").read_text().splitlines()]
    assert {
        "stream": "subscriptions",
        "id": "sub_not_iso",
        "field": {"stripe": "currency", "xdm": "commerce.order.currencyCode"},
        "action": "dropped",
        "reason": "not an ISO 4217 currency code",
        "_id": landed["sub_not_iso"]["_id"],
    } in repairs
    (dead,) = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert dead["record"]["id"] == "cs_not_iso"
    assert "discountAmount without a valid ISO 4217 currency (currency: 'xyz')" in " ".join(dead["reasons"])
