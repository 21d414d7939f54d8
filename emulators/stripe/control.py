"""Test-only control endpoints under ``/_emulator/`` (never called by the tap): dumps, mutations, faults,
the clock and counters. No auth, no faults, no rate limit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from emulators.stripe.api import LIST_ROUTES, STREAM_PATHS, AccountApi
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.mutations import mutate
from emulators.stripe.state import Emulator

CHILD_STREAMS = ("invoice_line_items", "subscription_items", "checkout_session_line_items")


def stream_of(resource: str) -> str | None:
    """A stream name from a stream name or an API path (``invoiceitems``, ``checkout/sessions``)."""
    if resource in STREAM_PATHS or resource in CHILD_STREAMS:
        return resource
    if resource in LIST_ROUTES:
        return LIST_ROUTES[resource][0]
    return None


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
            if kind == "objects":
                return 200, api.dump(stream)
            if stream in CHILD_STREAMS:
                return 200, []
            return 200, api.deleted_ids(stream)
    if method == "POST" and name == "mutate":
        counts = {k: int(payload.get(k, 0)) for k in ("updates", "deletes", "creates", "remove_items")}
        return 200, mutate(emulator, account, **counts, resources=payload.get("resources"))
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
        }
    return 404, {"error": f"unknown control endpoint {method} {path}"}
