"""The unit of a mapping: one rule writes one XDM path from a Stripe record.

Default mappings (profile, event, record) and user overrides are both lists of `FieldRule`, so they are
compiled, checked against the schema and reported on the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from target_aep.xdm.repairs import RepairLog
    from target_aep.xdm.schema_tree import SchemaNode

# produce(record, repairs) -> value or None. `repairs` (a `RepairLog`) notes what a producer had to leave out or
# alter (e.g. metadata beyond the size budget, an over-long text cut).
Producer = Callable[[dict[str, Any], "RepairLog"], Any]
# fitted(record, repairs, on_drop) -> the value already fitted to its schema node, or None / `fitting.DROP`.
FittedProducer = Callable[[dict[str, Any], "RepairLog", Callable[[str, str, str], None]], Any]
# compile_fitted(node, path) -> a FittedProducer for that schema node, or None when the rule has no faster form.
FittedCompiler = Callable[["SchemaNode", str], "FittedProducer | None"]


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
    # Optional faster forms for the compiled mapper (`mapper.py`); `produce` stays the definition, and
    # tests/target/test_compiled_mapping.py checks that both give the same bytes.
    compute: Callable[[dict[str, Any]], Any] | None = None  # `produce` without its unused `repairs` argument
    compile_fitted: FittedCompiler | None = None  # produce and fit in one, specialised for the schema node


def field(target: str, source: str, convert: Callable[[Any], Any] | None = None) -> FieldRule:
    """A rule copying one top-level Stripe field (optionally converted) to `target`."""

    def produce(record: dict[str, Any], _repairs: RepairLog) -> Any:
        value = record.get(source)
        return convert(value) if convert is not None and value is not None else value

    return FieldRule(target, produce, (source,))


def computed(target: str, sources: tuple[str, ...], fn: Callable[[dict[str, Any]], Any]) -> FieldRule:
    """A rule whose value `fn(record)` is derived from several Stripe fields."""
    return FieldRule(target, lambda record, _repairs: fn(record), sources, compute=fn)
