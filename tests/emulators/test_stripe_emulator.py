"""The Stripe emulator, over HTTP, as the tap sees it: Stripe's list semantics, errors, auth, Connect, events."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

from emulators.launch import EmulatorProcess, stripe_emulator

KEY = "sk_test_emulator_0000000000000000"
RESTRICTED = "rk_test_emulator_limited000000000"
CONNECTED = "acct_conn_test_a"
LIST_PATHS = {
    "customers": "customers",
    "charges": "charges",
    "payment_intents": "payment_intents",
    "refunds": "refunds",
    "invoices": "invoices",
    "invoice_items": "invoiceitems",
    "products": "products",
    "prices": "prices",
    "plans": "plans",
    "coupons": "coupons",
    "promotion_codes": "promotion_codes",
    "balance_transactions": "balance_transactions",
    "payouts": "payouts",
    "disputes": "disputes",
    "checkout_sessions": "checkout/sessions",
    "credit_notes": "credit_notes",
    "setup_intents": "setup_intents",
    "transfers": "transfers",
    # --- issue 9: H8
    "tax_rates": "tax_rates",
    "subscription_schedules": "subscription_schedules",
    "quotes": "quotes",
    "invoice_payments": "invoice_payments",
    "billing_meters": "billing/meters",
}

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with stripe_emulator(seed=7, customers=120, accounts=CONNECTED) as proc:
        yield proc


@pytest.fixture
def fresh() -> Iterator[EmulatorProcess]:
    """An emulator of its own, for tests that change data or the clock."""
    with stripe_emulator(seed=11, customers=40, accounts=CONNECTED) as proc:
        yield proc


def get(base: EmulatorProcess, path: str, key: str = KEY, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return requests.get(f"{base.url}/v1/{path}", headers=headers, timeout=10, **kwargs)


def ok(base: EmulatorProcess, path: str, **kwargs: Any) -> dict[str, Any]:
    response = get(base, path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def control(base: EmulatorProcess, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(method, f"{base.url}/_emulator/{path}", timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def page_through(
    base: EmulatorProcess, path: str, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    params = {"limit": 37, **params}
    while True:
        body = ok(base, path, params=params, headers=headers or {})
        objects += body["data"]
        if not body["has_more"]:
            return objects
        params["starting_after"] = body["data"][-1]["id"]


def assert_error(response: requests.Response, status: int, *, param: str | None = None, text: str = "") -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert {"type", "code", "message", "param"} <= set(error)
    assert text in error["message"]
    if param is not None:
        assert error["param"] == param
    return error


def test_lists_are_newest_first_and_page_to_the_control_dump(emulator: EmulatorProcess) -> None:
    for stream, path in LIST_PATHS.items():
        paged = page_through(emulator, path)
        dump = control(emulator, "GET", f"objects/{stream}")
        assert paged == dump, stream
        keys = [(o.get("created", o.get("date")), o["id"]) for o in paged]
        assert keys == sorted(keys, reverse=True), stream
        assert all(o["livemode"] is False for o in paged if "livemode" in o)
    assert len(control(emulator, "GET", "objects/charges")) == 3 * 120


def test_default_page_ending_before_and_retrieve(emulator: EmulatorProcess) -> None:
    first = ok(emulator, "charges")
    assert len(first["data"]) == 10 and first["has_more"] and first["url"] == "/v1/charges"
    middle = first["data"][5]["id"]
    before = ok(emulator, "charges", params={"ending_before": middle, "limit": 3})
    assert [o["id"] for o in before["data"]] == [o["id"] for o in first["data"][2:5]]
    assert before["has_more"] is True
    for stream, path in LIST_PATHS.items():
        obj = control(emulator, "GET", f"objects/{stream}")[-1]
        assert ok(emulator, f"{path}/{obj['id']}") == obj, stream
    assert_error(get(emulator, "charges/ch_doesnotexist"), 404, param="id", text="No such charge")


def test_created_filters(emulator: EmulatorProcess) -> None:
    every = control(emulator, "GET", "objects/charges")
    pivot = every[len(every) // 2]["created"]
    newer = page_through(emulator, "charges", **{"created[gte]": pivot})
    older = page_through(emulator, "charges", **{"created[lt]": pivot})
    assert newer + older == every
    assert all(o["created"] >= pivot for o in newer) and all(o["created"] < pivot for o in older)
    exact = ok(emulator, "charges", params={"created": pivot, "limit": 100})["data"]
    assert exact and all(o["created"] == pivot for o in exact)
    window = page_through(emulator, "charges", **{"created[gt]": every[-1]["created"], "created[lte]": pivot})
    assert window == [o for o in every if every[-1]["created"] < o["created"] <= pivot]


def test_expand(emulator: EmulatorProcess) -> None:
    body = ok(emulator, "charges", params={"expand[]": ["data.customer", "data.balance_transaction"], "limit": 50})
    with_customer = [o for o in body["data"] if o["customer"] is not None]
    assert with_customer
    for charge in with_customer:
        assert charge["customer"]["object"] == "customer"
        assert ok(emulator, f"customers/{charge['customer']['id']}") == charge["customer"]
    assert all(o["balance_transaction"]["source"] == o["id"] for o in body["data"] if o["status"] == "succeeded")
    deep = ok(emulator, "refunds", params={"expand[]": "data.charge.customer", "limit": 5})["data"]
    assert deep and all(isinstance(r["charge"], dict) for r in deep)
    sub = ok(emulator, "subscriptions", params={"expand[]": "data.items.data.price.product", "limit": 1})["data"][0]
    assert sub["items"]["data"][0]["price"]["product"]["object"] == "product"
    assert_error(get(emulator, "charges", params={"expand[]": "data.nope"}), 400, param="expand", text="nope")
    assert_error(get(emulator, "charges", params={"expand[]": "customer"}), 400, param="expand")
    too_deep = "data.charge.payment_intent.latest_charge.payment_intent.customer"
    assert_error(get(emulator, "refunds", params={"expand[]": too_deep}), 400, param="expand")


def test_subscription_status_and_child_lists(emulator: EmulatorProcess) -> None:
    default = page_through(emulator, "subscriptions")
    everything = page_through(emulator, "subscriptions", status="all")
    canceled = page_through(emulator, "subscriptions", status="canceled")
    assert canceled and all(s["status"] == "canceled" for s in canceled)
    assert all(s["status"] != "canceled" for s in default)
    assert {s["id"] for s in everything} == {s["id"] for s in default} | {s["id"] for s in canceled}
    assert_error(get(emulator, "subscriptions", params={"status": "bogus"}), 400, param="status")
    sub = everything[0]
    items = ok(emulator, "subscription_items", params={"subscription": sub["id"]})
    assert items["data"] == sub["items"]["data"]
    assert ok(emulator, f"subscription_items/{sub['items']['data'][0]['id']}") == sub["items"]["data"][0]
    assert_error(get(emulator, "subscription_items"), 400, param="subscription")
    invoice = ok(emulator, "invoices")["data"][0]
    lines = ok(emulator, f"invoices/{invoice['id']}/lines")["data"]
    assert lines == invoice["lines"]["data"]
    assert all({"start", "end"} <= set(line["period"]) and line["quantity"] >= 1 for line in lines)


def test_parameter_errors(emulator: EmulatorProcess) -> None:
    error = assert_error(get(emulator, "customers", params={"foo": "1"}), 400, param="foo")
    assert error["message"] == "Received unknown parameter: foo"
    assert_error(get(emulator, "events", params={"status": "all"}), 400, param="status")
    for bad in ("0", "101", "x"):
        assert_error(get(emulator, "customers", params={"limit": bad}), 400, param="limit")
    first = ok(emulator, "customers")["data"][0]["id"]
    both = {"starting_after": first, "ending_before": first}
    assert_error(get(emulator, "customers", params=both), 400)
    error = assert_error(get(emulator, "customers", params={"starting_after": "cus_missing"}), 400)
    assert error["code"] == "resource_missing"
    response = get(emulator, "customers", params={"foo": "1"})
    assert response.headers["Stripe-Should-Retry"] == "false" and response.headers["Request-Id"].startswith("req_")


def test_auth_versions_and_permissions(emulator: EmulatorProcess) -> None:
    wrong = "sk_test_not_a_real_key_9876"
    error = assert_error(get(emulator, "customers", key=wrong), 401, text="9876")
    assert "not_a_real" not in error["message"] and "sk_test" not in error["message"]
    assert_error(requests.get(f"{emulator.url}/v1/customers", timeout=10), 401)
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    response = requests.get(f"{emulator.url}/v1/customers", headers={"Authorization": f"Basic {basic}"}, timeout=10)
    assert response.status_code == 200
    assert_error(get(emulator, "payouts", key=RESTRICTED), 403, text="rak_payout_read")
    assert get(emulator, "charges", key=RESTRICTED).status_code == 200
    import stripe

    pinned = get(emulator, "customers", headers={"Stripe-Version": stripe.api_version})
    assert pinned.status_code == 200 and pinned.headers["Stripe-Version"] == stripe.api_version
    assert_error(get(emulator, "customers", headers={"Stripe-Version": "2024-13-99"}), 400)
    assert_error(get(emulator, "customers", headers={"Stripe-Version": "latest please"}), 400)


def test_connect_scoping(emulator: EmulatorProcess) -> None:
    assert ok(emulator, "account")["id"] == "acct_emulator_platform"
    connected = {"Stripe-Account": CONNECTED}
    assert ok(emulator, "account", headers=connected)["id"] == CONNECTED
    theirs = page_through(emulator, "customers", headers=connected)
    ours = page_through(emulator, "customers")
    assert theirs == control(emulator, "GET", f"objects/customers?account={CONNECTED}")
    assert not {c["id"] for c in theirs} & {c["id"] for c in ours}
    assert_error(get(emulator, f"customers/{ours[0]['id']}", headers=connected), 404)
    events = ok(emulator, "events", headers=connected)["data"]
    assert events and all(e["account"] == CONNECTED for e in events)
    error = assert_error(get(emulator, "customers", headers={"Stripe-Account": "acct_unknown"}), 403)
    assert error["code"] == "account_invalid"
    transfers = control(emulator, "GET", "objects/transfers")
    assert transfers and all(t["destination"] == CONNECTED for t in transfers)


def test_event_filters(emulator: EmulatorProcess) -> None:
    every = page_through(emulator, "events", limit=100)
    assert every and all(e["object"] == "event" for e in every)
    invoice_events = page_through(emulator, "events", type="invoice.*")
    assert invoice_events == [e for e in every if e["type"].startswith("invoice.")]
    wanted = ["customer.created", "charge.succeeded"]
    chosen = page_through(emulator, "events", **{"types[]": wanted})
    assert chosen == [e for e in every if e["type"] in wanted]
    assert {e["type"] for e in chosen} == set(wanted)
    assert_error(get(emulator, "events", params={"types[]": [f"t{i}.x" for i in range(21)]}), 400, param="types")
    created_types = {e["type"] for e in every}
    assert {"customer.created", "payment_intent.created", "invoice.created"} <= created_types


def test_rate_limit(fresh: EmulatorProcess) -> None:
    control(fresh, "POST", "faults", json={"rate_limit": 5})
    statuses = [get(fresh, "customers") for _ in range(15)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and sum(r.status_code == 200 for r in statuses) <= 6
    assert limited[0].json()["error"]["code"] == "rate_limit"
    assert limited[0].headers["Stripe-Should-Retry"] == "true"
    assert control(fresh, "GET", "stats")["rate_limited"] == len(limited)
    control(fresh, "POST", "faults", json={"rate_limit": 0, "fault_rate": 1.0})
    for _ in range(6):
        try:
            response = get(fresh, "customers")
        except requests.ConnectionError:
            continue  # a dropped connection is one of the two injected faults
        assert_error(response, 500)
        assert response.json()["error"]["type"] == "api_error"
        assert response.headers["Stripe-Should-Retry"] == "true"
    control(fresh, "POST", "faults", json={"fault_rate": 0})
    assert get(fresh, "customers").status_code == 200


def test_mutations_emit_events(fresh: EmulatorProcess) -> None:
    before = {e["id"] for e in page_through(fresh, "events", limit=100)}
    result = control(fresh, "POST", "mutate", json={"updates": 12, "deletes": 5, "creates": 6})
    assert len(result["updated"]) > 3 and result["deleted"] and result["created"]
    new_events = [e for e in page_through(fresh, "events", limit=100) if e["id"] not in before]
    now = control(fresh, "GET", "clock")["now"]
    assert all(abs(e["created"] - now) < 30 for e in new_events)
    by_object = {e["data"]["object"]["id"]: e for e in new_events}
    customer_ids = result["updated"].get("customers", [])
    for customer_id in customer_ids:
        event = by_object[customer_id]
        assert event["type"] == "customer.updated" and "email" in event["data"]["previous_attributes"]
        assert event["data"]["object"] == ok(fresh, f"customers/{customer_id}")
    for stream, ids in result["deleted"].items():
        dump_ids = {o["id"] for o in control(fresh, "GET", f"objects/{stream}")}
        assert not set(ids) & dump_ids
        assert set(ids) <= set(control(fresh, "GET", f"deleted/{stream}"))
        for object_id in ids:
            deleted = [
                e for e in new_events if e["type"].endswith(".deleted") and e["data"]["object"]["id"] == object_id
            ]
            assert deleted and deleted[0]["data"]["object"]["deleted"] is True
    for stream, ids in result["created"].items():
        newest = control(fresh, "GET", f"objects/{stream}")[: len(ids)]
        assert {o["id"] for o in newest} == set(ids)
    assert {e["type"] for e in new_events} >= {"customer.updated", "customer.deleted", "customer.created"}
    deleted_events = page_through(fresh, "events", type="*.deleted")
    assert len(deleted_events) == sum(len(ids) for ids in result["deleted"].values())


def test_event_retention_follows_the_clock(fresh: EmulatorProcess) -> None:
    generated = page_through(fresh, "events", limit=100)
    assert generated
    control(fresh, "POST", "mutate", json={"updates": 3})
    control(fresh, "POST", "clock", json={"advance_seconds": 20 * 86_400})
    remaining = page_through(fresh, "events", limit=100)
    now = control(fresh, "GET", "clock")["now"]
    assert all(e["created"] >= now - 30 * 86_400 for e in remaining)
    assert len(remaining) < len(generated) + 3
    control(fresh, "POST", "clock", json={"advance_seconds": 11 * 86_400})
    assert page_through(fresh, "events", limit=100) == []
    gone = generated[0]["id"]
    assert_error(get(fresh, f"events/{gone}"), 404)
    # Stripe's clock, as a client sees it in the Date header, moved forward with the data.
    served_at = parsedate_to_datetime(get(fresh, "customers").headers["Date"]).timestamp()
    assert abs(served_at - control(fresh, "GET", "clock")["now"]) <= 2


def test_removing_subscription_items(fresh: EmulatorProcess) -> None:
    before = {e["id"] for e in page_through(fresh, "events", limit=100)}
    subs_before = {s["id"]: s for s in control(fresh, "GET", "objects/subscriptions")}
    result = control(fresh, "POST", "mutate", json={"remove_items": 3})
    removed = result["removed"]["subscription_items"]
    assert len(removed) == len(set(removed)) == 3, result
    assert result["updated"] == result["deleted"] == result["created"] == {}
    new_events = [e for e in page_through(fresh, "events", limit=100) if e["id"] not in before]
    assert len(new_events) == 3 and {e["type"] for e in new_events} == {"customer.subscription.updated"}
    by_removed: dict[str, dict[str, Any]] = {}
    for event in new_events:
        previous = event["data"]["previous_attributes"]
        assert set(previous) == {"items"} and previous["items"]["object"] == "list"
        sub = event["data"]["object"]
        before_ids = [item["id"] for item in previous["items"]["data"]]
        after_ids = [item["id"] for item in sub["items"]["data"]]
        assert previous["items"] == subs_before[sub["id"]]["items"] and len(before_ids) > 1
        assert sub["status"] not in ("canceled", "incomplete_expired")
        (gone,) = set(before_ids) - set(after_ids)
        assert after_ids == [i for i in before_ids if i != gone] and sub["items"]["total_count"] == len(after_ids)
        by_removed[gone] = sub
    assert set(by_removed) == set(removed)
    for item_id, sub in by_removed.items():
        assert sub == ok(fresh, f"subscriptions/{sub['id']}")
        listed = ok(fresh, "subscription_items", params={"subscription": sub["id"]})["data"]
        assert [i["id"] for i in listed] == [i["id"] for i in sub["items"]["data"]] and item_id not in str(listed)
        assert_error(get(fresh, f"subscription_items/{item_id}"), 404)
        for kept in sub["items"]["data"]:
            assert ok(fresh, f"subscription_items/{kept['id']}")["subscription"] == sub["id"]
    dumped = {item["id"] for item in control(fresh, "GET", "objects/subscription_items")}
    assert not dumped & set(removed)


def test_item_removals_are_deterministic_and_stop_when_none_is_left() -> None:
    runs = []
    for _ in range(2):
        with stripe_emulator(seed=5, customers=12) as proc:
            runs.append(control(proc, "POST", "mutate", json={"updates": 2, "remove_items": 2}))
            # more removals than subscriptions with two items: each removal leaves one fewer candidate
            runs.append(control(proc, "POST", "mutate", json={"remove_items": 1000}))
            runs.append(control(proc, "POST", "mutate", json={"remove_items": 1}))
            subs = control(proc, "GET", "objects/subscriptions")
    assert runs[:3] == runs[3:]
    assert len(runs[0]["removed"]["subscription_items"]) == 2 and runs[0]["updated"]
    assert runs[2]["removed"] == {"subscription_items": []}
    assert all(len(s["items"]["data"]) <= 1 for s in subs if s["status"] not in ("canceled", "incomplete_expired"))


def test_customer_lists_credit_note_lines_and_their_strictness(emulator: EmulatorProcess) -> None:
    # --- issue 9: H8. Per customer, paged like Stripe, and together exactly the control dump.
    customers = control(emulator, "GET", "objects/customers")
    for stream, sub_path in (
        ("payment_methods", "payment_methods"),
        ("tax_ids", "tax_ids"),
        ("customer_balance_transactions", "balance_transactions"),
    ):
        listed = [o for c in customers for o in page_through(emulator, f"customers/{c['id']}/{sub_path}", limit=1)]
        assert listed == control(emulator, "GET", f"objects/{stream}"), stream
        assert listed and all(o["customer"] in {c["id"] for c in customers} for o in listed), stream
    method = control(emulator, "GET", "objects/payment_methods")[0]
    assert ok(emulator, f"payment_methods/{method['id']}") == method
    note = control(emulator, "GET", "objects/credit_notes")[0]
    assert ok(emulator, f"credit_notes/{note['id']}/lines")["data"] == note["lines"]["data"]
    # Uneven on purpose: several currencies among the balance transactions, customers with 0 to 3 methods.
    assert len({o["currency"] for o in control(emulator, "GET", "objects/customer_balance_transactions")}) >= 3
    # Strict: lists without a created filter refuse one, unknown customers and parameters are errors.
    assert_error(get(emulator, "quotes", params={"created[gte]": 1}), 400, text="created[gte]")
    assert_error(get(emulator, "billing/meters", params={"created[gte]": 1}), 400, text="created[gte]")
    assert_error(get(emulator, "customers/cus_nope/payment_methods"), 404, text="No such customer")
    assert_error(get(emulator, f"customers/{customers[0]['id']}/tax_ids", params={"type": "eu_vat"}), 400)


def test_billing_mutations_detach_and_edit_silently(fresh: EmulatorProcess) -> None:
    changes = control(fresh, "POST", "mutate", json={"billing": 1})["billing"]
    (detached,) = changes["deleted"]["payment_methods"]
    assert detached not in {o["id"] for o in control(fresh, "GET", "objects/payment_methods")}
    assert ok(fresh, f"payment_methods/{detached}")["customer"] is None  # detached, still retrievable
    events = ok(fresh, "events", params={"type": "payment_method.detached"})["data"]
    assert events[0]["data"]["object"]["id"] == detached
    (silent,) = changes["silent"]["quotes"]
    quote_events = ok(fresh, "events", params={"type": "quote.*", "limit": 100})["data"]
    assert silent not in {e["data"]["object"]["id"] for e in quote_events if e["created"] >= events[0]["created"]}


# --- issue 9: H9
def test_checkout_radar_issuing_and_file_lists(emulator: EmulatorProcess) -> None:
    # strict like Stripe: payment links take no created filter, setup attempts need their setup intent
    assert_error(get(emulator, "payment_links", params={"created[gte]": 1}), 400, param="created[gte]")
    assert_error(get(emulator, "setup_attempts"), 400, param="setup_intent", text="Missing required param")
    assert_error(get(emulator, "issuing/cards", params={"holder": "x"}), 400, param="holder")
    for path in ("issuing/authorizations", "issuing/transactions", "radar/early_fraud_warnings", "file_links"):
        assert page_through(emulator, path) == control(emulator, "GET", f"objects/{path}"), path
    # filters compare an embedded object by its id and a number by its digits
    card = page_through(emulator, "issuing/cards")[0]
    by_holder = page_through(emulator, "issuing/cards", cardholder=card["cardholder"]["id"])
    assert card["id"] in {c["id"] for c in by_holder}
    assert {c["cardholder"]["id"] for c in by_holder} == {card["cardholder"]["id"]}
    assert card["id"] in {c["id"] for c in page_through(emulator, "issuing/cards", exp_month=card["exp_month"])}
    intent = page_through(emulator, "setup_intents")[0]
    (attempt,) = page_through(emulator, "setup_attempts", setup_intent=intent["id"])
    assert attempt["setup_intent"] == intent["id"]
    session = page_through(emulator, "checkout/sessions")[0]
    lines = page_through(emulator, f"checkout/sessions/{session['id']}/line_items")
    assert sum(line["amount_subtotal"] for line in lines) == session["amount_subtotal"]
    # uneven data: Issuing amounts in zero- and three-decimal currencies, authorizations in bursts
    currencies = {a["currency"] for a in page_through(emulator, "issuing/authorizations")}
    assert {"usd"} < currencies
    created = sorted(a["created"] for a in page_through(emulator, "issuing/authorizations"))
    gaps = [b - a for a, b in itertools.pairwise(created)]
    assert min(gaps) < 60 < max(gaps)


# --- issue 9: H7


def test_connect_lists_and_payout_reconciliation(emulator: EmulatorProcess) -> None:
    accounts = page_through(emulator, "accounts")
    assert [a["id"] for a in accounts] == [CONNECTED]
    assert ok(emulator, "accounts", headers={"Stripe-Account": CONNECTED})["data"] == []  # an account has none
    persons = page_through(emulator, f"accounts/{CONNECTED}/persons")
    assert persons and persons == control(emulator, "GET", "objects/persons")
    banks = page_through(emulator, f"accounts/{CONNECTED}/external_accounts", object="bank_account")
    assert banks == accounts[0]["external_accounts"]["data"]
    assert_error(
        get(emulator, f"accounts/{CONNECTED}/persons", params={"created[gte]": "1"}), 400, param="created[gte]"
    )
    assert_error(get(emulator, "accounts/acct_unknown"), 404)
    for path in ("topups", "application_fees"):
        assert page_through(emulator, path) == control(emulator, "GET", f"objects/{path}")
        assert_error(get(emulator, path, params={"foo": "1"}), 400, param="foo")
    fees = control(emulator, "GET", "objects/application_fees")
    refunded = next(f for f in fees if f["refunds"]["data"])
    assert ok(emulator, f"application_fees/{refunded['id']}/refunds")["data"] == refunded["refunds"]["data"]
    payout = control(emulator, "GET", "objects/payouts")[0]
    paid = page_through(emulator, "balance_transactions", payout=payout["id"])
    assert payout["balance_transaction"] in {t["id"] for t in paid}
    pairs = [t for t in control(emulator, "GET", "objects/payout_balance_transactions") if t["payout"] == payout["id"]]
    assert {t["id"] for t in pairs} == {t["id"] for t in paid}
    assert_error(get(emulator, "balance_transactions", params={"payout": "po_missing"}), 404, param="payout")


def test_disabled_products_context_and_changes_without_events(fresh: EmulatorProcess) -> None:
    control(fresh, "POST", "products", json={"disabled": ["Connect"]})
    error = assert_error(get(fresh, "application_fees"), 400, text="not set up to use Connect")
    assert error["param"] is None  # about the account, not the request
    assert get(fresh, "customers").status_code == 200
    control(fresh, "POST", "products", json={"disabled": []})
    assert get(fresh, "application_fees").status_code == 200

    assert ok(fresh, "account", headers={"Stripe-Context": CONNECTED})["id"] == CONNECTED
    assert control(fresh, "GET", "stats")["stripe_contexts"] == [CONNECTED]

    events_before = len(page_through(fresh, "events", limit=100))
    changes = control(fresh, "POST", "mutate", json={"creates_without_event": {"checkout_sessions": 1}})
    (session_id,) = changes["created_without_event"]["checkout_sessions"]
    assert ok(fresh, f"checkout/sessions/{session_id}")["status"] == "open"
    assert len(page_through(fresh, "events", limit=100)) == events_before  # no event for it

    attached = control(fresh, "POST", "mutate", json={"attach_items": 1})["attached"]
    (item_id,), (invoice_id,) = attached["invoice_items"], attached["invoices"]
    assert ok(fresh, f"invoiceitems/{item_id}")["invoice"] == invoice_id
    newest = ok(fresh, "events", params={"limit": 1})["data"][0]
    assert (newest["type"], newest["data"]["object"]["id"]) == ("invoice.created", invoice_id)

    new = control(fresh, "POST", "accounts", json={"id": "acct_newshop9"})
    assert new["created"] >= newest["created"] and "acct_newshop9" in {a["id"] for a in page_through(fresh, "accounts")}
