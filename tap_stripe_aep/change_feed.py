"""Changes since a bookmark, from ``/v1/events``: the newest state of each changed object, once.

Stripe keeps events for 30 days. :func:`events_reach` says whether a bookmark is still inside that horizon;
a caller whose bookmark is not must re-read the list instead (see ``streams/base.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from tap_stripe_aep.backfill import Window, plan_windows, read_windows

EVENT_RETENTION_SECONDS = 30 * 24 * 3600
# Events are only trusted up to this much before the 30-day horizon: the bookmark must not sit at its edge.
RETENTION_SAFETY_SECONDS = 3600
# Stripe may list an event a moment after its ``created`` second; re-reading this much before the bookmark
# costs a few duplicate records and never loses a change.
EVENT_LAG_SECONDS = 60
MAX_TYPES_PER_QUERY = 20  # Stripe's limit on ``types[]``
EVENT_WINDOW_SECONDS = 24 * 3600


@dataclasses.dataclass(frozen=True)
class Change:
    """The newest event seen for one object."""

    event_id: str
    event_type: str
    created: int
    api_version: str | None
    obj: dict[str, Any]
    deleted: bool
    # Ids of embedded children (invoice lines, subscription items) that any of the object's events listed in
    # ``previous_attributes``: a child there but no longer in the object was removed, and no event says so.
    previous_child_ids: frozenset[str] = frozenset()


def events_reach(bookmark: int, now: int) -> bool:
    """True when events still cover everything since ``bookmark``."""
    return now - bookmark < EVENT_RETENTION_SECONDS - RETENTION_SAFETY_SECONDS


def latest_changes(
    fetch_events: Callable[[list[str], int, int, str | None], dict[str, Any]],
    executor: Executor,
    *,
    event_types: Iterable[str],
    deletion_types: Iterable[str],
    since: int,
    until: int,
    max_in_flight: int,
) -> list[Change]:
    """The newest change per object among events of ``event_types`` created in ``[since, until)``.

    Returned oldest first (by the event's ``created``), so records carry a rising ``updated``.
    ``fetch_events(types, created_gte, created_lt, starting_after)`` reads one page of ``/v1/events``.
    """
    types = sorted(set(event_types))
    deletions = set(deletion_types)
    newest: dict[str, Change] = {}
    previous_children: dict[str, set[str]] = {}
    windows: list[Window] = plan_windows(since, until, EVENT_WINDOW_SECONDS)
    for start in range(0, len(types), MAX_TYPES_PER_QUERY):
        chunk = types[start : start + MAX_TYPES_PER_QUERY]

        def fetch(gte: int, lt: int, after: str | None, chunk: list[str] = chunk) -> dict[str, Any]:
            return fetch_events(chunk, gte, lt, after)

        for _, events in read_windows(windows, fetch, executor, max_in_flight=max_in_flight):
            for event in events:  # oldest first: a later event replaces an earlier one
                obj = (event.get("data") or {}).get("object") or {}
                object_id = obj.get("id")
                if not object_id:
                    continue
                change = Change(
                    event_id=event["id"],
                    event_type=event["type"],
                    created=int(event["created"]),
                    api_version=event.get("api_version"),
                    obj=obj,
                    deleted=event["type"] in deletions or bool(obj.get("deleted")),
                )
                previous_children.setdefault(object_id, set()).update(_embedded_list_ids(event))
                previous = newest.get(object_id)
                if previous is None or (change.created, change.event_id) >= (previous.created, previous.event_id):
                    newest[object_id] = change
    changes = [
        dataclasses.replace(change, previous_child_ids=frozenset(previous_children[object_id]))
        for object_id, change in newest.items()
    ]
    return sorted(changes, key=lambda c: (c.created, c.event_id))


def _embedded_list_ids(event: dict[str, Any]) -> set[str]:
    """Ids in every embedded list (``{"object": "list", "data": [...]}``) of ``data.previous_attributes``."""
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    ids: set[str] = set()
    for value in previous.values():
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            ids.update(str(item["id"]) for item in value["data"] if isinstance(item, dict) and item.get("id"))
    return ids
