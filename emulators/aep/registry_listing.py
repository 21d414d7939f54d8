"""Schema Registry listings: ``property`` filters, ``orderby``, ``start``/``limit`` paging, ``xed-id`` summaries.

``property=title==Stripe Customer Profile`` (``==`` or ``!=``; on a list attribute, "contains"), several joined by
commas or repeated; ``orderby=title`` or ``-title`` (default ``title``); ``start`` is the last value of the primary
sort key already seen, so the next page holds the values strictly after it; ``limit`` is 300 by default, at most 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from emulators.aep.replies import Reply, registry_problem

DEFAULT_LIMIT = 300
MAX_LIMIT = 500


def matches(body: dict[str, Any], condition: str) -> bool:
    """One ``key==value`` / ``key!=value`` / ``key`` condition against a resource."""
    for operator in ("!=", "=="):
        if operator in condition:
            key, value = condition.split(operator, 1)
            actual = body.get(key.strip())
            found = value in actual if isinstance(actual, list) else actual is not None and str(actual) == value
            return found if operator == "==" else not found
    return condition.strip() in body


def conditions(query: dict[str, list[str]]) -> list[str]:
    return [part for value in query.get("property", []) for part in value.split(",") if part.strip()]


def list_reply(
    bodies: list[dict[str, Any]], *, full: bool, query: dict[str, list[str]], base_path: str, content_type: str
) -> Reply:
    """One page of resources, in the registry's ``{results, _page, _links}`` shape."""
    wanted = conditions(query)
    selected = [body for body in bodies if all(matches(body, c) for c in wanted)]
    orderby = (query.get("orderby") or ["title"])[0]
    keys = [key.strip() for key in orderby.split(",") if key.strip()]
    descending = keys[0].startswith("-")
    primary = keys[0].lstrip("-")
    try:
        limit = min(int((query.get("limit") or [str(DEFAULT_LIMIT)])[0]), MAX_LIMIT)
    except ValueError:
        return registry_problem(400, "1001", "Invalid request", "limit must be an integer")
    if limit <= 0:
        return registry_problem(400, "1001", "Invalid request", "limit must be positive")
    for key in reversed(keys):
        name = key.lstrip("-")
        selected.sort(key=lambda body, name=name: str(body.get(name, "")), reverse=key.startswith("-"))
    start = (query.get("start") or [None])[0]
    if start is not None:
        after = [b for b in selected if str(b.get(primary, "")) > start]
        before = [b for b in selected if str(b.get(primary, "")) < start]
        selected = before if descending else after
    page, rest = selected[:limit], selected[limit:]
    next_start = str(page[-1].get(primary, "")) if rest and page else None
    next_link = None
    if next_start is not None:
        params = {"orderby": orderby, "start": next_start, "limit": str(limit)}
        if query.get("property"):
            params["property"] = ",".join(wanted)
        next_link = {"href": f"{base_path}?{urlencode(params)}"}
    results = page if full else [_summary(body) for body in page]
    return Reply(
        200,
        {
            "results": results,
            "_page": {"orderby": orderby, "next": next_start, "count": len(results)},
            "_links": {"next": next_link, "global_schemas": {"href": "/data/foundation/schemaregistry/global/schemas"}},
        },
        content_type=content_type,
    )


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"$id": body["$id"], "meta:altId": body["meta:altId"], "version": body["version"], "title": body["title"]}
