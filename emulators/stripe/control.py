"""Test-only control endpoints under ``/_emulator/`` (never called by the tap): dumps, mutations, faults,
the clock and counters. No auth, no faults, no rate limit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from emulators.stripe.api import CHILD_DUMPS, LIST_ROUTES, STREAM_PATHS, AccountApi
from emulators.stripe.connect import account_persons, connected_accounts
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.mutations import mutate
from emulators.stripe.mutations_billing import mutate_billing
from emulators.stripe.state import Emulator

# Streams the dumps serve beyond the lists: children (flattened) and the platform's connected accounts.
CONNECT_STREAMS = ("accounts", "persons", "external_accounts")
CHILD_STREAMS = (*CHILD_DUMPS, "payout_balance_transactions", *CONNECT_STREAMS)
# --- issue 9: H8 (deletions of these are in the mutate answer: detached, deleted tax ids)
CHILD_STREAMS += ("payment_methods", "tax_ids", "customer_balance_transactions", "credit_note_line_items")
CHILD_STREAMS += ("checkout_session_line_items",)  # --- issue 9: H9


def stream_of(resource: str) -> str | None:
    """A stream name from a stream name or an API path (``invoiceitems``, ``checkout/sessions``)."""
    if resource in STREAM_PATHS or resource in CHILD_STREAMS:
        return resource
    if resource in LIST_ROUTES:
        return LIST_ROUTES[resource][0]
    return None


MUTATION_COUNTS = (
    "updates",
    "deletes",
    "creates",
    "remove_items",
    "attach_items",
    "reverse_transfers",
    "confirm_setup_intents",  # issue 9: H9
)


def _connect_dump(emulator: Emulator, stream: str) -> list[dict[str, Any]]:
    accounts = connected_accounts(emulator)
    if stream == "accounts":
        return accounts
    if stream == "persons":
        return [p for a in accounts for p in account_persons(emulator, a["id"])]
    return [bank for a in accounts for bank in a["external_accounts"]["data"]]


def handle_control(emulator: Emulator, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
    """Answer one control request: (status, JSON-able payload)."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return 400, {"error": "the body must be JSON"}
    params = dict(parse_qsl(query))
    account = params.get("account") or payload.get("account") or PLATFORM_ACCOUNT
    if account not in emulator.data:
        return 400, {"error": f"unknown account {account!r}", "accounts": list(emulator.data)}
    name = path[len("/_emulator/") :].strip("/")
    if method == "GET" and (name.startswith("objects/") or name.startswith("deleted/")):
        kind, _, resource = name.partition("/")
        stream = stream_of(resource)
        if stream is None:
            return 404, {"error": f"unknown resource {resource!r}"}
        api = AccountApi(emulator, account)
        with emulator.lock:
            if kind == "objects" and stream in CONNECT_STREAMS:
                return 200, _connect_dump(emulator, stream)
            if kind == "objects":
                return 200, api.dump(stream)
            if stream in CHILD_STREAMS:
                return 200, []
            return 200, api.deleted_ids(stream)
    if method == "POST" and name == "mutate":
        counts = {k: int(payload.get(k, 0)) for k in MUTATION_COUNTS}
        silent = {str(k): int(v) for k, v in (payload.get("creates_without_event") or {}).items()}
        result = mutate(emulator, account, **counts, creates_without_event=silent, resources=payload.get("resources"))
        if int(payload.get("billing", 0)) > 0:  # --- issue 9: H8
            result["billing"] = mutate_billing(emulator, account, int(payload["billing"]))
        return 200, result
    if method == "POST" and name == "accounts":
        # {"id": "acct_..."}: a connected account created now (no event, as on Stripe)
        new_id = str(payload.get("id") or "")
        if not new_id.startswith("acct_") or new_id in emulator.data:
            return 400, {"error": f"need a new account id (acct_...), got {new_id!r}"}
        with emulator.lock:
            return 200, emulator.add_account(new_id)
    if method == "POST" and name == "products":
        # {"account": ..., "disabled": ["Issuing", ...]}: the products this account answers as not activated
        with emulator.lock:
            emulator.disabled_products[account] = {str(p) for p in payload.get("disabled") or []}
        return 200, {"account": account, "disabled": sorted(emulator.disabled_products[account])}
    if method == "POST" and name == "faults":
        for knob in ("latency_ms", "rate_limit", "fault_rate"):
            if payload.get(knob) is not None:
                setattr(emulator.knobs, knob, float(payload[knob]))
        return 200, vars(emulator.knobs)
    if method == "POST" and name == "clock":
        with emulator.lock:
            now = emulator.clock.advance(int(payload.get("advance_seconds", 0)))
        return 200, {"now": now, "advanced_seconds": emulator.clock.advanced}
    if method == "GET" and name == "clock":
        return 200, {"now": emulator.clock.now(), "advanced_seconds": emulator.clock.advanced}
    if method == "GET" and name == "stats":
        stats = emulator.stats
        return 200, {
            "requests": stats.requests,
            "rate_limited": stats.rate_limited,
            "faults": stats.faults,
            "errors": stats.errors,
            "now": emulator.clock.now(),
            "accounts": list(emulator.data),
            "knobs": vars(emulator.knobs),
            "by_path": dict(stats.by_path),
            "stripe_contexts": sorted(emulator.stripe_contexts),
        }
    return 404, {"error": f"unknown control endpoint {method} {path}"}
