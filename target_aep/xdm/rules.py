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
# compile_fitted(node, path) -> a FittedProducer for that schema node, a `Proven` form, or None when the rule has
# no faster form.
FittedCompiler = Callable[["SchemaNode", str], "FittedProducer | Proven | None"]


@dataclass(frozen=True)
class Proven:
    """What a rule's `compile_fitted` returns when it can prove, once per stream and schema node, more than a
    fitted producer says: the compiled mapping then writes it without a call per record where it can.

    - `constant`: the rule always gives this value, and it fits the node unchanged (fitted once, nothing to
      report): written as a constant.
    - `compute(record)`: the rule's value, which always fits the node unchanged (e.g. a UUID in an `_id` that
      takes any UUID): written without fitting.
    - `never`: the rule gives None for every record of this stream (e.g. `productListItems` of a stream without
      lines): no code at all.
    """

    constant: Any = None
    compute: Callable[[dict[str, Any]], Any] | None = None
    never: bool = False


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
    # A per-record value two rules both derive (the event type: `eventType` and the commerce measure): the rule
    # with `shares` computes it (its `compute`) and the compiled mapping keeps it for the rules after it whose
    # `with_shared` names it, which get it as a third argument instead of deriving it again:
    # `with_shared[1](record, repairs, value)` gives what `produce(record, repairs)` gives.
    shares: str | None = None
    with_shared: tuple[str, Callable[[dict[str, Any], RepairLog, Any], Any]] | None = None
    # `with_shared` and the fitting to the schema node in one (like `compile_fitted`), or None where it has none:
    # compile_fitted_shared(node, path) -> fitted(record, repairs, on_drop, shared value) or None.
    compile_fitted_shared: Callable[[SchemaNode, str], Callable[..., Any] | None] | None = None


def field(target: str, source: str, convert: Callable[[Any], Any] | None = None) -> FieldRule:
    """A rule copying one top-level Stripe field (optionally converted) to `target`."""

    def produce(record: dict[str, Any], _repairs: RepairLog) -> Any:
        value = record.get(source)
        return convert(value) if convert is not None and value is not None else value

    return FieldRule(target, produce, (source,))


def computed(target: str, sources: tuple[str, ...], fn: Callable[[dict[str, Any]], Any]) -> FieldRule:
    """A rule whose value `fn(record)` is derived from several Stripe fields."""
    return FieldRule(target, lambda record, _repairs: fn(record), sources, compute=fn)


def constant(target: str, value: Any) -> FieldRule:
    """A rule writing the same `value` for every record; where it fits the schema node unchanged (decided once,
    nothing reported) the compiled mapping writes it as a constant."""

    def compile_fitted(node: SchemaNode, path: str) -> Proven | None:
        from target_aep.xdm.fitting import fitter_for  # fitting's module is heavier; only the compiler needs it

        reported: list[str] = []
        fitted = fitter_for(node)(value, path, lambda where, *_: reported.append(where))
        return Proven(constant=value) if fitted == value and type(fitted) is type(value) and not reported else None

    return FieldRule(target, lambda _record, _repairs: value, (), compute=lambda _record: value,
                     compile_fitted=compile_fitted)  # fmt: skip
