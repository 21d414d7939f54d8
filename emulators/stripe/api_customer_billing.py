"""Reads of the issue 9 (H8) lists that are not plain ``created``-ordered resources: a customer's payment methods,
tax ids and balance transactions (``/v1/customers/{id}/...``, retrieve ``/v1/payment_methods/{id}``,
``/v1/tax_ids/{id}``) and a credit note's lines (``/v1/credit_notes/{id}/lines``).

Strict like Stripe: each list takes exactly its documented parameters (an unknown one is a 400), an unknown
or deleted customer is a 404 ``resource_missing``.
"""

from __future__ import annotations

import json
import operator
from typing import TYPE_CHECKING, Any

from emulators.stripe.errors import ApiError, missing
from emulators.stripe.objects_customer_billing import (
    CHILD_OBJECT,
    CHILDREN_PER_CUSTOMER,
    child_codec,
    customer_children,
)
from emulators.stripe.query import parse_query
from emulators.stripe.sequence import Obj

if TYPE_CHECKING:  # api.py imports this module
    from emulators.stripe.api import AccountApi

# API sub-path under /v1/customers/{id}/ -> (stream, filters beyond paging, takes `created`)
CUSTOMER_LIST_ROUTES: dict[str, tuple[str, frozenset[str], bool]] = {
    "payment_methods": ("payment_methods", frozenset({"type", "allow_redisplay"}), False),
    "tax_ids": ("tax_ids", frozenset(), False),
    "balance_transactions": ("customer_balance_transactions", frozenset({"invoice"}), True),
}
# Top-level retrieve path -> stream
CHILD_RETRIEVE_ROUTES = {"payment_methods": "payment_methods", "tax_ids": "tax_ids"}
_COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "eq": operator.eq}
# Streams whose objects the control API lists from here
DUMPED_HERE = frozenset({"payment_methods", "tax_ids", "customer_balance_transactions", "credit_note_line_items"})
# Lists that take no created[...] filter (Stripe answers 400 unknown parameter)
LISTS_WITHOUT_CREATED = frozenset({"quotes", "billing/meters"})


# Lists Stripe includes in a customer only when asked (`expand[]=data.tax_ids` on the list): stream -> field
INCLUDABLE = {"customers": {"data.tax_ids": "tax_ids"}}
INCLUDED_PAGE = 10  # Stripe includes the first 10, with has_more


def is_includable(stream: str, path: str) -> bool:
    return path in INCLUDABLE.get(stream, {})


def with_included(api: AccountApi, customer: Obj, paths: list[str]) -> Obj:
    """A copy of ``customer`` with the lists ``paths`` name included, as Stripe includes them."""
    out = dict(customer)
    for path in paths:
        field = INCLUDABLE["customers"][path]
        index = api.data.seq["customers"].index_of(customer["id"])
        items = customer_children(api.data, field, index) if index is not None else []
        out[field] = {
            "object": "list",
            "data": items[:INCLUDED_PAGE],
            "has_more": len(items) > INCLUDED_PAGE,
            "total_count": len(items),
            "url": f"/v1/customers/{customer['id']}/{field}",
        }
    return out


def customer_index(api: AccountApi, customer_id: str) -> int:
    seq = api.data.seq["customers"]
    index = seq.index_of(customer_id)
    if index is None or not seq.is_live(index):
        raise missing("customer", customer_id, param="customer", status=404)
    return index


def customer_list(api: AccountApi, customer_id: str, sub_path: str, raw_query: str) -> bytes:
    """One page of a customer's payment methods, tax ids or balance transactions, newest first."""
    stream, filters, created = CUSTOMER_LIST_ROUTES[sub_path]
    query = parse_query(raw_query, filters=filters, created=created)
    if query.expand:
        raise ApiError(400, f"This property cannot be expanded ({query.expand[0]}).", param="expand")
    items = customer_children(api.data, stream, customer_index(api, customer_id))
    for name, value in query.filters.items():
        items = [item for item in items if item.get(name) == value]
    for op, bound in query.created.items():
        compare = _COMPARE[op]
        items = [item for item in items if compare(item["created"], bound)]
    url = f"/v1/customers/{customer_id}/{sub_path}"
    return _page(items, query.starting_after, query.ending_before, query.limit, CHILD_OBJECT[stream], url)


def retrieve_child(api: AccountApi, stream: str, object_id: str, raw_query: str) -> bytes:
    parse_query(raw_query, filters=frozenset(), paged=False, created=False)
    index = child_codec(api.data, stream).index(object_id)
    customers = api.data.seq["customers"]
    if index is not None and index // CHILDREN_PER_CUSTOMER < len(customers):
        found = _find(customer_children(api.data, stream, index // CHILDREN_PER_CUSTOMER), object_id)
        found = found or api.data.detached.get(object_id)
        if found is not None:
            return json.dumps(found).encode()
    raise missing(CHILD_OBJECT[stream], object_id)


def credit_note_lines(api: AccountApi, credit_note_id: str, raw_query: str) -> bytes:
    query = parse_query(raw_query, filters=frozenset(), created=False)
    if query.expand:
        raise ApiError(400, f"This property cannot be expanded ({query.expand[0]}).", param="expand")
    parent = api.retrieve_object("credit_notes", credit_note_id, param="id", status=404)
    url = f"/v1/credit_notes/{credit_note_id}/lines"
    items = parent["lines"]["data"]
    return _page(items, query.starting_after, query.ending_before, query.limit, "credit_note_line_item", url)


def dump(api: AccountApi, stream: str) -> list[Obj]:
    """Every live object of one of these streams, newest parent first (the control API's view)."""
    if stream == "credit_note_line_items":
        seq = api.data.seq["credit_notes"]
        return [line for i in seq.live_desc() for line in seq.get(i)["lines"]["data"]]
    customers = api.data.seq["customers"]
    return [obj for c in customers.live_desc() for obj in customer_children(api.data, stream, c)]


def _find(items: list[Obj], object_id: str) -> Obj | None:
    return next((item for item in items if item["id"] == object_id), None)


def _page(
    items: list[Obj], starting_after: str | None, ending_before: str | None, limit: int, object_name: str, url: str
) -> bytes:
    ids = [item["id"] for item in items]

    def position(object_id: str, param: str) -> int:
        try:
            return ids.index(object_id)
        except ValueError:
            raise missing(object_name, object_id, param=param, status=400) from None

    if ending_before is not None:
        stop = position(ending_before, "ending_before")
        start = max(0, stop - limit)
        page, has_more = items[start:stop], start > 0
    else:
        start = position(starting_after, "starting_after") + 1 if starting_after is not None else 0
        page, has_more = items[start : start + limit], start + limit < len(items)
    body: dict[str, Any] = {"object": "list", "data": page, "has_more": has_more, "url": url}
    return json.dumps(body).encode()
