"""The platform's view of its connected accounts: ``/v1/accounts`` (list and retrieve) and each account's
``persons`` and ``external_accounts`` lists.

Only the platform lists accounts; a connected account's own ``/v1/accounts`` is empty (it has no accounts of its
own). Accounts are few, so lists are built by filtering every connected account; the order and paging are
Stripe's (newest first, ``starting_after``/``ending_before``, ``created`` filters, ``limit`` up to 100).
"""

from __future__ import annotations

import json
from typing import Any

from emulators.stripe.errors import ApiError, missing
from emulators.stripe.generator import PLATFORM_ACCOUNT
from emulators.stripe.objects_connect import persons
from emulators.stripe.query import ListQuery, cursor_page, parse_query
from emulators.stripe.state import Emulator

Obj = dict[str, Any]


def accounts_route(emulator: Emulator, account: str, remainder: str, raw_query: str) -> bytes:
    """Answer ``GET /v1/accounts[/<id>[/persons|/external_accounts]]`` for ``account`` (the caller)."""
    parts = remainder.split("/") if remainder else []
    if not parts:
        query = parse_query(raw_query, filters=frozenset())
        _no_expand(query)
        objects = connected_accounts(emulator) if account == PLATFORM_ACCOUNT else []
        return _page(objects, query, "/v1/accounts", "account")
    target = _reachable(emulator, account, parts[0])
    if len(parts) == 1:
        parse_query(raw_query, filters=frozenset(), paged=False, created=False)
        return json.dumps(emulator.account_object(target)).encode()
    if len(parts) == 2 and parts[1] in ("persons", "external_accounts"):
        filters = frozenset({"object"}) if parts[1] == "external_accounts" else frozenset({"relationship"})
        query = parse_query(raw_query, filters=filters, created=False)
        _no_expand(query)
        if parts[1] == "persons":
            children = account_persons(emulator, target)
            return _page(children, query, f"/v1/accounts/{target}/persons", "person")
        children = emulator.account_object(target)["external_accounts"]["data"]
        kind = query.filters.get("object")
        if kind is not None and kind not in ("bank_account", "card"):
            raise ApiError(400, "Invalid object: must be one of bank_account, card", param="object")
        children = [c for c in children if kind is None or c["object"] == kind]
        return _page(children, query, f"/v1/accounts/{target}/external_accounts", "external account")
    raise ApiError(404, f"Unrecognized request URL (GET: /v1/accounts/{remainder}).")


def connected_accounts(emulator: Emulator) -> list[Obj]:
    """Every connected account of the platform, newest first."""
    objects = [emulator.account_object(a) for a in emulator.data if a != PLATFORM_ACCOUNT]
    return sorted(objects, key=lambda a: (a["created"], a["id"]), reverse=True)


def account_persons(emulator: Emulator, account: str) -> list[Obj]:
    created = int(emulator.account_object(account)["created"])
    removed = emulator.removed_persons.get(account, set())
    return [p for p in persons(account, emulator.seed, created) if p["id"] not in removed]


def _reachable(emulator: Emulator, caller: str, target: str) -> str:
    """The platform reads any of its accounts; an account reads only itself."""
    if target not in emulator.data or (caller != PLATFORM_ACCOUNT and caller != target):
        raise missing("account", target)
    return target


def _no_expand(query: ListQuery) -> None:
    if query.expand:
        raise ApiError(400, "This property cannot be expanded (the emulator expands no account lists).",
                       param="expand")  # fmt: skip


def _page(objects: list[Obj], query: ListQuery, url: str, object_name: str) -> bytes:
    """One page of ``objects`` (newest first), with ``created`` bounds and Stripe's cursors."""
    for op, value in query.created.items():
        objects = [o for o in objects if _created_matches(int(o.get("created") or 0), op, value)]
    page, has_more = cursor_page(objects, query, object_name)
    return json.dumps({"object": "list", "data": page, "has_more": has_more, "url": url}).encode()


def _created_matches(created: int, op: str, value: int) -> bool:
    return {"gt": created > value, "gte": created >= value, "lt": created < value, "lte": created <= value,
            "eq": created == value}[op]  # fmt: skip
