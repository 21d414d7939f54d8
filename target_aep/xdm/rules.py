"""The unit of a mapping: one rule writes one XDM path from a Stripe record.

Default mappings (profile, event, record) and user overrides are both lists of `FieldRule`, so they are
compiled, checked against the schema and reported on the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# produce(record, unplaced) -> value or None. `unplaced` collects Stripe fields a producer had to leave out
# (e.g. metadata beyond the size budget).
Producer = Callable[[dict[str, Any], set[str]], Any]


@dataclass(frozen=True)
class FieldRule:
    """Write `produce(record)` at the dotted XDM path `target`.

    `sources` names the Stripe fields the rule reads: when the schema has no place for `target` (or drops part
    of the value), these are what `unplaced_fields()` reports. `source_of` maps a key directly under `target`
    to its own Stripe field, for blocks such as `_{tenant}.stripe` whose fields come from different places.
    """

    target: str
    produce: Producer
    sources: tuple[str, ...]
    source_of: dict[str, str] | None = None


def field(target: str, source: str, convert: Callable[[Any], Any] | None = None) -> FieldRule:
    """A rule copying one top-level Stripe field (optionally converted) to `target`."""

    def produce(record: dict[str, Any], _unplaced: set[str]) -> Any:
        value = record.get(source)
        return convert(value) if convert is not None and value is not None else value

    return FieldRule(target, produce, (source,))


def computed(target: str, sources: tuple[str, ...], fn: Callable[[dict[str, Any]], Any]) -> FieldRule:
    """A rule whose value `fn(record)` is derived from several Stripe fields."""
    return FieldRule(target, lambda record, _unplaced: fn(record), sources)
