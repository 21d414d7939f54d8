"""`build_mapper`: one stream + one dataset schema -> a compiled Stripe-to-XDM mapper.

The class comes from the dataset's schema, not the stream name: customers in a profile dataset get the
Individual Profile mapping, any stream in an ExperienceEvent dataset the event mapping, anything else the
record mapping (`_id` + `_{tenant}.stripe`). Each rule's target is looked up in the schema once, here;
at map time a rule only produces a value and fits it to its schema node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from target_aep.xdm.event_types import default_event_type, event_type_of, record_state
from target_aep.xdm.events import event_rules
from target_aep.xdm.fitting import DROP, NO_PLACE, DropHandler, fits_as_is_source, fitter_for, keyed_fitter_for
from target_aep.xdm.generated_code import define
from target_aep.xdm.overrides import StreamOverride, parse_override
from target_aep.xdm.profile import customer_profile_rules, generic_profile_rules
from target_aep.xdm.records import record_rules
from target_aep.xdm.repairs import DROPPED, Repair, RepairLog
from target_aep.xdm.rules import FieldRule, Proven
from target_aep.xdm.schema_tree import SchemaNode, SchemaTree, XdmClass


@dataclass
class _CompiledRule:
    rule: FieldRule
    keys: tuple[str, ...]
    node: SchemaNode
    on_drop: DropHandler

    def plan(self) -> tuple[Any, ...]:
        """What `XdmMapper.map` needs per record, as one flat tuple (no attribute look-ups on the hot path)."""
        return (
            self.rule.produce,
            self.node.plain_type,
            fitter_for(self.node),
            self.rule.target,
            self.on_drop,
            self.keys[:-1],
            self.keys[-1],
        )


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


class XdmMapper:
    """Maps one stream's Stripe records to XDM for one dataset schema. Build with `build_mapper`.

    Two forms of `map` give the same output: the readable `reference_map` (the loop below, the specification)
    and, unless `reference` is set, a function generated once per stream and schema on the stream's first record
    (`_compile_map`): the rules unrolled into straight-line code, the nesting of each target path written out,
    rules that offer one (the tenant block) producing their value already fitted to their schema node, a fitter
    called only where the value's own test (`fits_as_is_source`) does not already show it fits, and the blocks
    the mapping builds (commerce, addresses) fitted per key sequence (`keyed_fitter_for`). The mapping is most of
    the target's time per record; tests/target/test_compiled_mapping.py keeps the two forms equal byte for byte.
    """

    def __init__(
        self,
        stream_name: str,
        tree: SchemaTree,
        rules: list[FieldRule],
        exclude: list[str],
        *,
        reference: bool = False,
    ) -> None:
        self.stream_name = stream_name
        self.tree = tree
        self.xdm_class: XdmClass = tree.xdm_class
        # What the mapping left out or altered: per record (`take_repairs`) and, for the run, the fields unplaced.
        self.repairs = RepairLog()
        self._compiled: list[_CompiledRule] = []
        # Sources whose target the schema lacks: reported for each record that actually carries them.
        self._homeless: list[tuple[str, str, str]] = []  # (Stripe field, its top-level key, the missing XDM path)
        self._exclude_after: list[tuple[str, ...]] = []
        for rule in rules:
            if any(_under(rule.target, excluded) for excluded in exclude):
                continue
            node = tree.node_at(rule.target)
            if node is None:
                self._homeless.extend((source, source.split(".", 1)[0], rule.target) for source in rule.sources)
                continue
            self._compiled.append(_CompiledRule(rule, tuple(rule.target.split(".")), node, self._drop_handler(rule)))
        for excluded in exclude:
            if any(_under(excluded, rule.target) and excluded != rule.target for rule in rules):
                self._exclude_after.append(tuple(excluded.split(".")))
        self._plans = [compiled.plan() for compiled in self._compiled]
        self._compiled_map: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.map: Callable[[dict[str, Any]], dict[str, Any]] = (
            self.reference_map if reference else self._map_first_record
        )

    def _map_first_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """Compile this stream's mapping when its first record comes, then map it. A run builds the mapper of
        every stream of the catalog at start-up (52 for a full tap), some of which never see a record; compiling
        one (its tenant block and the rules' specialised forms) costs about 2 ms of CPU."""
        compiled = self._compiled_map
        if compiled is None:  # (a caller may hold this method itself: it then compiles once all the same)
            compiled = self._compiled_map = self.map = self._compile_map()
        return compiled(record)

    def _drop_handler(self, rule: FieldRule) -> DropHandler:
        prefix_len = len(rule.target) + 1
        log = self.repairs

        def on_drop(path: str, action: str, reason: str) -> None:
            fields: tuple[str, ...] = rule.sources or (path,)
            if rule.source_of is not None:
                key = path[prefix_len:].split(".", 1)[0].split("[", 1)[0]
                source = rule.source_of.get(key)
                if source is not None:
                    rest = path[prefix_len + len(key) :]
                    fields = (source + rest if rest.startswith(".") and key == "metadata" else source,)
            log.pending.append(Repair(", ".join(fields), path, action, reason))
            if action == DROPPED:
                log.unplaced.update(fields)

        return on_drop

    def reference_map(self, record: dict[str, Any]) -> dict[str, Any]:
        """One Stripe record (tap conventions) -> one XDM record that fits the dataset's schema."""
        out: dict[str, Any] = {}
        repairs = self.repairs
        for produce, plain_type, fit, target_path, on_drop, parents, last in self._plans:
            value = produce(record, repairs)
            if value is None:
                continue
            if type(value) is not plain_type:  # an unconstrained leaf of the right type fits as is
                value = fit(value, target_path, on_drop)
                if value is DROP:
                    continue
            target = out
            for key in parents:
                child = target.get(key)
                if not isinstance(child, dict):
                    child = target[key] = {}
                target = child
            target[last] = value
        for keys in self._exclude_after:
            _pop_path(out, keys)
        for source, root, target_path in self._homeless:
            if record.get(root) is not None:
                repairs.dropped(source, target_path, NO_PLACE)
        return out

    def _compile_map(self) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """`reference_map` as one generated function for this stream and schema (same output, same reports)."""
        namespace: dict[str, Any] = {
            "DROP": DROP,
            "repairs": self.repairs,
            "_pop_path": _pop_path,
            "EXCLUDE_AFTER": self._exclude_after,
            "HOMELESS": self._homeless,
            "NO_PLACE": NO_PLACE,
        }
        body = ["out = {}\n"]
        shared: set[str] = set()  # per-record values computed so far (`FieldRule.shares`)
        for index, compiled in enumerate(self._compiled):
            rule, node = compiled.rule, compiled.node
            namespace[f"on_drop_{index}"] = compiled.on_drop
            fitted = rule.compile_fitted(node, rule.target) if rule.compile_fitted is not None else None
            if isinstance(fitted, Proven):
                if fitted.never:
                    continue
                if fitted.compute is None:
                    namespace[f"constant_{index}"] = fitted.constant
                    body.extend(line[4:] for line in _placement(compiled.keys, f"constant_{index}"))
                    continue
                namespace[f"proven_{index}"] = fitted.compute
                body.append(f"v = proven_{index}(record)\n")
                body.append("if v is not None:\n")
            elif fitted is not None:
                namespace[f"fitted_{index}"] = fitted
                body.append(f"v = fitted_{index}(record, repairs, on_drop_{index})\n")
                body.append("if v is not None and v is not DROP:\n")
            else:
                if rule.with_shared is not None and rule.with_shared[0] in shared:
                    compiler = rule.compile_fitted_shared
                    fitted_shared = compiler(node, rule.target) if compiler is not None else None
                    if fitted_shared is not None:  # produced and fitted in one (the commerce block)
                        namespace[f"fitted_shared_{index}"] = fitted_shared
                        arguments = f"record, repairs, on_drop_{index}, shared_{rule.with_shared[0]}"
                        body.append(f"v = fitted_shared_{index}({arguments})\nif v is not None and v is not DROP:\n")
                        body.extend(_placement(compiled.keys))
                        continue
                    namespace[f"with_shared_{index}"] = rule.with_shared[1]
                    body.append(f"v = with_shared_{index}(record, repairs, shared_{rule.with_shared[0]})\n")
                elif rule.compute is not None:
                    namespace[f"compute_{index}"] = rule.compute
                    body.append(f"v = compute_{index}(record)\n")
                    if rule.shares is not None:
                        body.append(f"shared_{rule.shares} = v\n")
                        shared.add(rule.shares)
                else:
                    namespace[f"produce_{index}"] = rule.produce
                    body.append(f"v = produce_{index}(record, repairs)\n")
                namespace[f"fit_{index}"] = keyed_fitter_for(node)
                fast, names = fits_as_is_source("v", node, f"N_{index}")  # e.g. a timestamp already seen to fit
                namespace.update(names)
                body.append(
                    "if v is not None:\n"
                    f"    if not {fast or 'False'}:\n"
                    f"        v = fit_{index}(v, {rule.target!r}, on_drop_{index})\n"
                    "if v is not None and v is not DROP:\n"
                )
            body.extend(_placement(compiled.keys))
        if self._exclude_after:
            body.append("for keys in EXCLUDE_AFTER:\n    _pop_path(out, keys)\n")
        if self._homeless:
            body.append(
                "for source, root, target_path in HOMELESS:\n"
                "    if record.get(root) is not None:\n"
                "        repairs.dropped(source, target_path, NO_PLACE)\n"
            )
        body.append("return out\n")
        source = "def map_record(record):\n" + "".join("    " + line for line in "".join(body).splitlines(True))
        map_record = define(source, "map_record", namespace, f"<mapping of {self.stream_name}>")
        self.map_source = source  # for a reader debugging a difference
        return map_record  # type: ignore[no-any-return]

    def unplaced_fields(self) -> set[str]:
        """Stripe fields seen so far that found no place in the dataset's schema (report once per run)."""
        return set(self.repairs.unplaced)

    def take_repairs(self) -> list[Repair]:
        """What the last `map` call left out of or altered in its record (and forget it)."""
        return self.repairs.take()


def _placement(keys: tuple[str, ...], value: str = "v") -> list[str]:
    """Source lines (inside an `if`) writing `value` at `keys` in `out`, creating missing parents as `map` does."""
    lines = []
    parent = "out"
    for depth, key in enumerate(keys[:-1]):
        child = f"p{depth}"
        lines.append(f"    {child} = {parent}.get({key!r})\n")
        lines.append(f"    if not isinstance({child}, dict):\n        {child} = {parent}[{key!r}] = {{}}\n")
        parent = child
    lines.append(f"    {parent}[{keys[-1]!r}] = {value}\n")
    return lines


def _pop_path(out: dict[str, Any], keys: tuple[str, ...]) -> None:
    parents = []
    target: Any = out
    for key in keys[:-1]:
        if not isinstance(target, dict) or key not in target:
            return
        parents.append((target, key))
        target = target[key]
    if isinstance(target, dict):
        target.pop(keys[-1], None)
    for parent, key in reversed(parents):  # drop objects the exclusion left empty
        if parent[key] == {}:
            del parent[key]


def _event_type_chooser(stream_name: str, override: StreamOverride | None) -> Callable[[dict[str, Any]], str]:
    table = override.event_type if override is not None else {}
    if not table:
        return event_type_of(stream_name)

    def choose(record: dict[str, Any]) -> str:
        state = record_state(record)
        chosen = table.get(state) or (table.get("*") if state != "deleted" else None)
        return chosen or default_event_type(stream_name, record)

    return choose


def build_mapper(
    stream_name: str,
    schema: dict[str, Any],
    *,
    tenant_id: str,
    identity_namespace: str = "StripeCustomerId",
    override: dict[str, Any] | None = None,
    reference: bool = False,
) -> XdmMapper:
    """Compile the mapping of `stream_name` into the dataset whose `xed-full` schema is `schema`.

    `override` is this stream's entry of the target's `mappings` setting; it is checked against the schema
    here and raises `MappingConfigError` naming the setting (`mappings.charges.fields.x`). `reference` keeps
    the readable `reference_map` as `map` (the comparison test's specification).
    """
    tree = SchemaTree.shared(schema, tenant_id=tenant_id)
    parsed = parse_override(stream_name, override, tree) if override is not None else None
    if tree.xdm_class == "profile":
        if stream_name == "customers":
            rules = customer_profile_rules(tree, stream_name, identity_namespace)
        else:
            rules = generic_profile_rules(tree, stream_name, identity_namespace)
    elif tree.xdm_class == "experienceevent":
        rules = event_rules(tree, stream_name, identity_namespace, _event_type_chooser(stream_name, parsed))
    else:
        rules = record_rules(tree, stream_name)
    exclude: list[str] = []
    if parsed is not None:
        overridden = {rule.target for rule in parsed.rules}
        rules = [rule for rule in rules if rule.target not in overridden] + parsed.rules
        exclude = parsed.exclude
    return XdmMapper(stream_name, tree, rules, exclude, reference=reference)
