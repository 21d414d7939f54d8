"""The ``/v1`` read API: list and retrieve for every resource, child lists, filters, paging and expansion.

A page never scans more than it returns (plus filtered-out or deleted objects in between): ``created`` bounds
are bisects, ``starting_after``/``ending_before`` decode the id's position, and unexpanded objects are served from
their cached JSON bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from emulators.stripe import api_customer_billing, objects_storefront
from emulators.stripe.errors import ApiError, missing
from emulators.stripe.events import matching_types
from emulators.stripe.expansion import ANY, check_path, expand
from emulators.stripe.generator import EVENT_RETENTION, RESOURCES
from emulators.stripe.query import ListQuery, cursor_page, parse_query
from emulators.stripe.sequence import Obj, Sequence
from emulators.stripe.state import Emulator

Predicate = Callable[[Obj], bool]

# API path -> (stream name, extra filters beyond paging, created and expand)
LIST_ROUTES: dict[str, tuple[str, frozenset[str]]] = {
    "customers": ("customers", frozenset({"email"})),
    "charges": ("charges", frozenset({"customer", "payment_intent", "transfer_group"})),
    "payment_intents": ("payment_intents", frozenset({"customer"})),
    "refunds": ("refunds", frozenset({"charge", "payment_intent"})),
    "invoices": ("invoices", frozenset({"customer", "status", "subscription", "collection_method"})),
    "invoiceitems": ("invoice_items", frozenset({"customer", "invoice", "pending"})),
    "subscriptions": ("subscriptions", frozenset({"customer", "status", "price", "collection_method"})),
    "products": ("products", frozenset({"active", "shippable", "type"})),
    "prices": ("prices", frozenset({"active", "currency", "product", "type"})),
    "plans": ("plans", frozenset({"active", "product"})),
    "coupons": ("coupons", frozenset()),
    "promotion_codes": ("promotion_codes", frozenset({"active", "code", "coupon", "customer"})),
    "balance_transactions": ("balance_transactions", frozenset({"currency", "payout", "source", "type"})),
    "payouts": ("payouts", frozenset({"status", "destination"})),
    "disputes": ("disputes", frozenset({"charge", "payment_intent"})),
    "checkout/sessions": ("checkout_sessions", frozenset({"customer", "payment_intent", "status", "subscription"})),
    "credit_notes": ("credit_notes", frozenset({"customer", "invoice"})),
    "setup_intents": ("setup_intents", frozenset({"customer", "payment_method"})),
    "transfers": ("transfers", frozenset({"destination", "transfer_group"})),
    "events": ("events", frozenset({"type", "types"})),
    # --- issue 9: H7
    "application_fees": ("application_fees", frozenset({"charge"})),
    "topups": ("top_ups", frozenset({"status"})),
    # --- issue 9: H8
    "tax_rates": ("tax_rates", frozenset({"active", "inclusive"})),
    "subscription_schedules": ("subscription_schedules", frozenset({"customer", "scheduled"})),
    "quotes": ("quotes", frozenset({"customer", "status", "test_clock"})),
    "invoice_payments": ("invoice_payments", frozenset({"invoice", "status"})),
    "billing/meters": ("billing_meters", frozenset({"status"})),
    # --- issue 9: H9
    "payment_links": ("payment_links", frozenset({"active"})),
    "shipping_rates": ("shipping_rates", frozenset({"active", "currency"})),
    "setup_attempts": ("setup_attempts", frozenset({"setup_intent"})),
    "files": ("files", frozenset({"purpose"})),
    "file_links": ("file_links", frozenset({"expired", "file"})),
    "radar/early_fraud_warnings": ("early_fraud_warnings", frozenset({"charge", "payment_intent"})),
    "reviews": ("reviews", frozenset()),
    "issuing/authorizations": ("issuing_authorizations", frozenset({"card", "cardholder", "status"})),
    "issuing/cardholders": ("issuing_cardholders", frozenset({"email", "phone_number", "status", "type"})),
    "issuing/cards": (
        "issuing_cards",
        frozenset({"cardholder", "exp_month", "exp_year", "last4", "personalization_design", "status", "type"}),
    ),
    "issuing/disputes": ("issuing_disputes", frozenset({"status", "transaction"})),
    "issuing/transactions": ("issuing_transactions", frozenset({"card", "cardholder", "type"})),
}
# Child lists served from the list their parent embeds: parent stream -> (embedding field, child object name).
CHILD_LISTS: dict[str, tuple[str, str]] = {
    "invoices": ("lines", "line_item"),
    "subscriptions": ("items", "subscription_item"),
    # --- issue 9: H7
    "application_fees": ("refunds", "fee_refund"),
    "transfers": ("reversals", "transfer_reversal"),
}
# Lists under a namespace (``/v1/issuing/cards``): the resource is the first two path segments.
NAMESPACED_PATHS = tuple(path for path in LIST_ROUTES if "/" in path)
# Stripe's payment link list takes no `created` filter (and the object has no `created` field).
NO_CREATED_FILTER = frozenset({"payment_links"})
STREAM_PATHS = {stream: path for path, (stream, _) in LIST_ROUTES.items()}
# Child stream -> the parent stream whose embedded lists hold its objects (for the control API's dumps).
CHILD_DUMPS: dict[str, str] = {
    "invoice_line_items": "invoices",
    "subscription_items": "subscriptions",
    # --- issue 9: H7
    "application_fee_refunds": "application_fees",
    "transfer_reversals": "transfers",
}
SUBSCRIPTION_STATUSES = frozenset(
    {
        "active",
        "all",
        "canceled",
        "ended",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    }
)
_HIDDEN_BY_DEFAULT = frozenset({"canceled", "incomplete_expired"})
_BOOLEAN_FILTERS = frozenset({"active", "shippable", "inclusive", "expired"})
_SOURCE_STREAMS = {"ch_": "charges", "re_": "refunds", "po_": "payouts", "py_": "charges"}


class AccountApi:
    """Reads of one account's data, answering JSON bytes."""

    def __init__(self, emulator: Emulator, account: str) -> None:
        self.emulator = emulator
        self.data = emulator.data[account]
        self.events = emulator.events[account]

    def sequence(self, stream: str) -> Sequence:
        return self.events.seq if stream == "events" else self.data.seq[stream]

    # ---- lists --------------------------------------------------------------------------------------------

    def list_page(self, path: str, raw_query: str) -> bytes:
        stream, filters = LIST_ROUTES[path]
        takes_created = stream not in NO_CREATED_FILTER and path not in api_customer_billing.LISTS_WITHOUT_CREATED
        query = parse_query(raw_query, filters=filters, created=takes_created)
        seq = self.sequence(stream)
        # --- issue 9: H8: lists a customer can include (`expand[]=data.tax_ids`), not references to expand
        included = [item for item in query.expand if api_customer_billing.is_includable(stream, item)]
        query.expand = [item for item in query.expand if item not in included]
        # A session's `line_items` is includable (not a reference): expanding it embeds the first page of lines.
        with_lines = stream == "checkout_sessions" and "data.line_items" in query.expand
        query.expand = [item for item in query.expand if not (with_lines and item == "data.line_items")]
        for item in query.expand:
            check_path(seq.object_name, item, is_list=True)
        predicate = self._predicate(stream, query)
        lo, hi = self._created_range(seq, query)
        if stream == "balance_transactions" and "payout" in query.filters:
            paid_lo, paid_hi = self._paid_out_range(query.filters["payout"])
            lo, hi = max(lo, paid_lo), min(hi, paid_hi)
        if stream == "events":
            lo = max(lo, seq.bound(self.emulator.clock.now() - EVENT_RETENTION, right=False))
        if stream == "setup_attempts":
            lo, hi = self._setup_attempt_range(query, lo, hi)
        types = self._event_types(query) if stream == "events" else None
        if query.starting_after is not None:
            hi = min(hi, self._position(seq, query.starting_after, "starting_after"))
        if query.ending_before is not None:
            lo = max(lo, self._position(seq, query.ending_before, "ending_before") + 1)
            candidates = self.events.indices_asc(types, lo, hi) if types is not None else iter(range(lo, hi))
        else:
            candidates = (
                self.events.indices_desc(types, lo, hi) if types is not None else iter(range(hi - 1, lo - 1, -1))
            )
        found = _take(seq, candidates, predicate, query.limit + 1)
        has_more = len(found) > query.limit
        found = found[: query.limit]
        if query.ending_before is not None:
            found.reverse()
        url = "/v1/" + path
        if with_lines:
            objects = [
                self._expanded(self._with_lines(seq.get(i)), seq.object_name, query.expand, is_list=True) for i in found
            ]
            return _list_json(objects, has_more, url)
        if query.expand or included:
            objects = [self._expanded(seq.get(i), seq.object_name, query.expand, is_list=True) for i in found]
            if included:
                objects = [api_customer_billing.with_included(self, obj, included) for obj in objects]
            return _list_json(objects, has_more, url)
        return _list_bytes([seq.encoded(i) for i in found], has_more, url)

    def child_list(self, parent_stream: str, parent_id: str, raw_query: str, *, param: str | None = None) -> bytes:
        """Invoice lines and subscription items: pages of the list embedded in the parent, in its order."""
        filters = frozenset({param}) if param else frozenset()
        query = parse_query(raw_query, filters=filters, created=False)
        field, object_name = CHILD_LISTS[parent_stream]
        for item in query.expand:
            check_path(object_name, item, is_list=True)
        parent = self.retrieve_object(parent_stream, parent_id, param=param, status=404)
        items: list[Obj] = parent[field]["data"]
        url = (
            "/v1/subscription_items"
            if parent_stream == "subscriptions"
            else f"/v1/{STREAM_PATHS[parent_stream]}/{parent_id}/{field}"
        )
        return self._child_page(items, query, object_name, url)

    def _child_page(self, items: list[Obj], query: ListQuery, object_name: str, url: str) -> bytes:
        """One page of a child list held in full (a parent's lines or items), in the list's order."""
        page, has_more = cursor_page(items, query, object_name)
        page = [self._expanded(item, object_name, query.expand, is_list=True) for item in page]
        return _list_json(page, has_more, url)

    def _setup_attempt_range(self, query: ListQuery, lo: int, hi: int) -> tuple[int, int]:
        """Stripe requires ``setup_intent``. Generated attempt k belongs to setup intent k; attempts made later
        (a confirmation) follow the generated ones, so the range is attempt k and those (the filter picks)."""
        intent = query.filters.get("setup_intent")
        if not intent:
            raise ApiError(400, "Missing required param: setup_intent.", code="parameter_missing", param="setup_intent")
        index = self.data.seq["setup_intents"].index_of(intent)
        if index is None:
            raise missing("setup_intent", intent, param="setup_intent", status=404)
        attempts = self.data.seq["setup_attempts"]
        last = len(attempts) if len(attempts) > attempts.base_count else index + 1
        return max(lo, min(index, attempts.base_count)), min(hi, last)

    def _with_lines(self, session: Obj) -> Obj:
        lines = objects_storefront.checkout_line_items(self.data, session)
        url = f"/v1/checkout/sessions/{session['id']}/line_items"
        page = {"object": "list", "data": lines[:10], "has_more": len(lines) > 10, "url": url}
        return {**session, "line_items": page}

    def checkout_line_items(self, session_id: str, raw_query: str) -> bytes:
        """``/v1/checkout/sessions/{id}/line_items``: a session's lines (never embedded in the session)."""
        query = parse_query(raw_query, filters=frozenset(), created=False)
        for item in query.expand:
            check_path("item", item, is_list=True)
        session = self.retrieve_object("checkout_sessions", session_id, param=None)
        items = objects_storefront.checkout_line_items(self.data, session)
        return self._child_page(items, query, "item", f"/v1/checkout/sessions/{session_id}/line_items")

    def _created_range(self, seq: Sequence, query: ListQuery) -> tuple[int, int]:
        lo, hi = 0, len(seq)
        for op, value in query.created.items():
            if op in ("gt", "gte", "eq"):
                lo = max(lo, seq.bound(value, right=op == "gt"))
            if op in ("lt", "lte", "eq"):
                hi = min(hi, seq.bound(value, right=op != "lt"))
        return lo, hi

    def _position(self, seq: Sequence, object_id: str, param: str) -> int:
        index = seq.index_of(object_id)
        if index is None:
            raise missing(seq.object_name, object_id, param=param, status=400)
        return index

    def _event_types(self, query: ListQuery) -> list[str] | None:
        if query.types:
            return list(dict.fromkeys(query.types))
        pattern = query.filters.get("type")
        if pattern is None:
            return None
        return matching_types(pattern, self.events.by_type)

    def _predicate(self, stream: str, query: ListQuery) -> Predicate | None:
        checks: list[Predicate] = []
        status = query.filters.get("status") if stream == "subscriptions" else None
        if stream == "subscriptions":
            if status is not None and status not in SUBSCRIPTION_STATUSES:
                raise ApiError(
                    400,
                    f"Invalid status: must be one of {', '.join(sorted(SUBSCRIPTION_STATUSES))}",
                    param="status",
                )
            if status is None:
                checks.append(lambda o: o["status"] not in _HIDDEN_BY_DEFAULT)
            elif status == "ended":
                checks.append(lambda o: o["status"] in _HIDDEN_BY_DEFAULT)
            elif status != "all":
                checks.append(lambda o: o["status"] == status)
        for name, value in query.filters.items():
            if (name in ("type", "types") and stream == "events") or (name == "status" and stream == "subscriptions"):
                continue
            if name == "payout" and stream == "balance_transactions":
                continue  # a range of transactions, see _paid_out_range
            checks.append(_field_check(stream, name, value))
        if not checks:
            return None
        return lambda o: all(check(o) for check in checks)

    def _paid_out_range(self, payout_id: str) -> tuple[int, int]:
        """Balance transaction indices an automatic payout paid out: those since the previous payout, up to its own.

        Stripe answers an unknown payout with a 404 naming the ``payout`` parameter.
        """
        payouts = self.data.seq["payouts"]
        index = payouts.index_of(payout_id)
        if index is None or not payouts.is_live(index):
            raise missing("payout", payout_id, param="payout")
        txns = self.data.seq["balance_transactions"]
        since = payouts.created(index - 1) if index > 0 else None
        lo = txns.bound(since, right=True) if since is not None else 0
        return lo, txns.bound(payouts.created(index), right=True)

    # ---- retrieve -----------------------------------------------------------------------------------------

    def retrieve(self, path: str, object_id: str, raw_query: str) -> bytes:
        if path == "subscription_items":
            query = parse_query(raw_query, filters=frozenset(), paged=False, created=False)
            obj = self._subscription_item(object_id)
            return json.dumps(self._expanded(obj, "subscription_item", query.expand, is_list=False)).encode()
        stream = LIST_ROUTES[path][0]
        query = parse_query(raw_query, filters=frozenset(), paged=False, created=False)
        seq = self.sequence(stream)
        for item in query.expand:
            check_path(seq.object_name, item, is_list=False)
        obj = self.retrieve_object(stream, object_id)
        if query.expand:
            return json.dumps(self._expanded(obj, seq.object_name, query.expand, is_list=False)).encode()
        index = seq.index_of(object_id)
        return seq.encoded(index) if index is not None and seq.is_live(index) else json.dumps(obj).encode()

    def retrieve_object(self, stream: str, object_id: str, *, param: str | None = "id", status: int = 404) -> Obj:
        seq = self.sequence(stream)
        index = seq.index_of(object_id)
        if index is None:
            raise missing(seq.object_name, object_id, param=param, status=status)
        if not seq.is_live(index):
            if stream == "customers":  # Stripe still answers a deleted customer, as a stub
                return {"id": object_id, "object": "customer", "deleted": True}
            raise missing(seq.object_name, object_id, param=param, status=status)
        if stream == "events" and seq.created(index) < self.emulator.clock.now() - EVENT_RETENTION:
            raise missing("event", object_id, param=param, status=status)
        return seq.get(index)

    def _subscription_item(self, item_id: str) -> Obj:
        index = self.data.item_codec.index(item_id)
        subs = self.data.seq["subscriptions"]
        if index is not None and index // 4 < len(subs) and subs.is_live(index // 4):
            for item in subs.get(index // 4)["items"]["data"]:
                if item["id"] == item_id:
                    return dict(item)
        raise missing("subscription_item", item_id)

    def lookup(self, object_name: str, object_id: str) -> Obj | None:
        """The current object an id refers to (for expansion), or None when it is gone."""
        if object_name == ANY:
            stream = _SOURCE_STREAMS.get(object_id[:3])
        else:
            stream = next((s for s, (o, _) in RESOURCES.items() if o == object_name and s != "plans"), None)
            stream = "plans" if object_name == "plan" else stream
        if stream is None:
            return None
        try:
            return self.retrieve_object(stream, object_id)
        except ApiError:
            return None

    def _expanded(self, obj: Obj, object_name: str, paths: list[str], *, is_list: bool) -> Obj:
        for path in paths:
            parts = path.split(".")
            obj = expand(obj, parts[1:] if is_list else parts, object_name, self.lookup)
        return obj

    # ---- control-API dumps ----------------------------------------------------------------------------------

    def dump(self, stream: str) -> list[Obj]:
        """Every live object of ``stream``, newest first, unexpanded (child streams flattened)."""
        if stream in api_customer_billing.DUMPED_HERE:  # --- issue 9: H8
            return api_customer_billing.dump(self, stream)
        if stream == "checkout_session_line_items":  # issue 9: H9 (lines are computed from the session)
            sessions = self.data.seq["checkout_sessions"]
            return [
                item
                for i in sessions.live_desc()
                for item in objects_storefront.checkout_line_items(self.data, sessions.get(i))
            ]
        if stream in CHILD_DUMPS:
            parent = CHILD_DUMPS[stream]
            field = CHILD_LISTS[parent][0]
            seq = self.data.seq[parent]
            return [item for i in seq.live_desc() for item in seq.get(i)[field]["data"]]
        if stream == "payout_balance_transactions":
            found = []
            for i in self.data.seq["payouts"].live_desc():
                payout = self.data.seq["payouts"].get(i)
                lo, hi = self._paid_out_range(payout["id"])
                txns = self.data.seq["balance_transactions"]
                found += [{**txns.get(t), "payout": payout["id"]} for t in range(hi - 1, lo - 1, -1)]
            return found
        seq = self.sequence(stream)
        live = seq.live_desc()
        if stream == "events":
            oldest = self.emulator.clock.now() - EVENT_RETENTION
            return [json.loads(seq.encoded(i)) for i in live if seq.created(i) >= oldest]
        return [json.loads(seq.encoded(i)) for i in live]

    def deleted_ids(self, stream: str) -> list[str]:
        seq = self.sequence(stream)
        return [seq.id_of(i) for i in sorted(seq.deleted, reverse=True)]


def _take(seq: Sequence, candidates: Iterator[int], predicate: Predicate | None, want: int) -> list[int]:
    found: list[int] = []
    deleted = seq.deleted
    for index in candidates:
        if index in deleted or (predicate is not None and not predicate(seq.get(index))):
            continue
        found.append(index)
        if len(found) >= want:
            break
    return found


def _field_check(stream: str, name: str, value: str) -> Predicate:
    if name in _BOOLEAN_FILTERS or name == "pending":
        if value not in ("true", "false"):
            raise ApiError(400, f"Invalid boolean: {value}", param=name)
        flag = value == "true"
        if name == "pending":
            return lambda o: (o.get("invoice") is None) == flag
        return lambda o: o.get(name) is flag
    if name == "coupon":
        return lambda o: (o.get("promotion") or {}).get("coupon") == value
    if name == "price":
        return lambda o: any(item["price"]["id"] == value for item in o["items"]["data"])
    if name == "subscription" and stream == "invoices":
        return lambda o: ((o.get("parent") or {}).get("subscription_details") or {}).get("subscription") == value
    return lambda o: _filter_value(o.get(name)) == value


def _filter_value(value: Any) -> Any:
    """A field as a query string compares to it: an embedded object by its id, a number as digits."""
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _list_bytes(parts: list[bytes], has_more: bool, url: str) -> bytes:
    head = b'{"object":"list","data":['
    tail = b'],"has_more":' + (b"true" if has_more else b"false") + b',"url":' + json.dumps(url).encode() + b"}"
    if len(parts) < 2:
        return head + b"".join(parts) + tail
    # One join copies the page once (head + join + tail copied it twice: 100-500 KB a page)
    return b",".join([head + parts[0], *parts[1:-1], parts[-1] + tail])


def _list_json(objects: list[Any], has_more: bool, url: str) -> bytes:
    return json.dumps({"object": "list", "data": objects, "has_more": has_more, "url": url}).encode()
