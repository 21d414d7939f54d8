"""Parsing and validating a list request's query string the way Stripe does (unknown parameter -> 400)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from emulators.stripe.errors import ApiError, invalid_param, missing, unknown_parameter

_ARRAY = re.compile(r"^(expand|types)\[(\d*)\]$")
_CREATED = re.compile(r"^created\[(gt|gte|lt|lte)\]$")
MAX_EXPAND_DEPTH = 4
MAX_EVENT_TYPES = 20


@dataclass
class ListQuery:
    limit: int = 10
    starting_after: str | None = None
    ending_before: str | None = None
    created: dict[str, int] = field(default_factory=dict)
    expand: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid_param(name, f"Invalid integer: {value}") from None


def parse_query(raw: str, *, filters: frozenset[str], paged: bool = True, created: bool = True) -> ListQuery:
    """Parse ``raw`` for a list endpoint accepting the common parameters plus ``filters``."""
    query = ListQuery()
    for name, value in parse_qsl(raw, keep_blank_values=True):
        array = _ARRAY.match(name)
        bound = _CREATED.match(name)
        if array and (array.group(1) == "expand" or "types" in filters):
            (query.expand if array.group(1) == "expand" else query.types).append(value)
        elif name == "expand" or (name == "types" and "types" in filters):
            (query.expand if name == "expand" else query.types).append(value)
        elif created and bound:
            query.created[bound.group(1)] = _integer(name, value)
        elif created and name == "created":
            query.created["eq"] = _integer(name, value)
        elif paged and name == "limit":
            query.limit = _integer(name, value)
            if not 1 <= query.limit <= 100:
                raise invalid_param(
                    "limit",
                    "Invalid limit: must be at least 1"
                    if query.limit < 1
                    else f"This value must be less than or equal to 100 (it currently is '{query.limit}').",
                )
        elif paged and name in ("starting_after", "ending_before"):
            if not value:
                raise invalid_param(name, f"Invalid {name}: must be a non-empty object id")
            setattr(query, name, value)
        elif name in filters and name != "types":
            query.filters[name] = value
        else:
            raise unknown_parameter(name)
    if query.starting_after and query.ending_before:
        raise ApiError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    if len(query.types) > MAX_EVENT_TYPES:
        raise ApiError(
            400, f"You may only specify up to {MAX_EVENT_TYPES} event types (got {len(query.types)}).", param="types"
        )
    if query.types and "type" in query.filters:
        raise ApiError(400, "You may only specify one of these parameters: type, types.", param="types")
    return query


def cursor_page(items: list, query: ListQuery, object_name: str) -> tuple[list, bool]:
    """One page of a list held in full, in its order, by Stripe's ``starting_after`` / ``ending_before`` cursors:
    the page and ``has_more``. A cursor that names no item of the list is Stripe's 400 for that parameter."""
    ids = [item["id"] for item in items]
    start, stop = 0, len(items)
    if query.starting_after is not None:
        start = _cursor_position(ids, query.starting_after, object_name, "starting_after") + 1
    if query.ending_before is not None:
        stop = _cursor_position(ids, query.ending_before, object_name, "ending_before")
        start = max(0, stop - query.limit)
        return items[start:stop], start > 0
    return items[start : start + query.limit], start + query.limit < stop


def _cursor_position(ids: list[str], object_id: str, object_name: str, param: str) -> int:
    try:
        return ids.index(object_id)
    except ValueError:
        raise missing(object_name, object_id, param=param, status=400) from None
