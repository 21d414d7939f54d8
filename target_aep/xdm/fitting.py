"""Fit a mapped value to its place in the schema, so the target never emits what Platform would reject.

Platform rejects unknown keys, wrong types, pattern and format mismatches and out-of-range numbers. The
mapper builds values from Stripe data it does not control (a customer's free-text state, a metadata value
that is a number, an amount beyond XDM `long`), so every value passes through `fit_value` first: unknown
keys and unfixable values are dropped and reported through `on_drop(xdm_path, "dropped", reason)`; harmless
mismatches are coerced (numbers and booleans into string fields, over-long strings truncated) and reported the same
way with the action `converted` or `truncated`, so every repair is traced (`repairs.py`).

Every record passes through this for every rule, so each schema node is compiled once into a `Fitter`
closure (`fitter_for`) that knows its kind and constraints: no per-value dispatch on the node's kind, and the
common case (a value of the right type) takes the shortest path. `_fit_scalar` stays the one full
definition of scalar fitting; the compiled fast paths only skip the checks that cannot apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema_rs

from target_aep.xdm.generated_code import define
from target_aep.xdm.repairs import CONVERTED, DROPPED, TRUNCATED
from target_aep.xdm.schema_tree import SchemaNode

NO_PLACE = "a field with no place in the dataset's schema"
INCOMPLETE = "incomplete once its invalid parts were left out"


def _wrong_type(expected: str, value: Any) -> str:
    return f"not {expected} (a {type(value).__name__})"


def _cut(max_length: int) -> str:
    return f"over-long text cut to {max_length} characters (the schema's maxLength)"


def _format_reason(fmt: str) -> str:
    return f"not a valid {fmt}"


def _range_reason(node: SchemaNode) -> str:
    return f"out of the schema's range [{node.minimum}, {node.maximum}]"


DROP: Any = object()  # a value that must not be written
FIT_CACHE_SIZE = 4096  # strings remembered per schema leaf as fitting unchanged (see `_scalar_fitter`)

# on_drop(xdm_path, action, reason): a value was dropped, truncated or converted to fit (see repairs.py)
DropHandler = Callable[[str, str, str], None]
# fitter(value, path, on_drop) -> the fitted value, or DROP (after on_drop(path, ...) when something was lost)
Fitter = Callable[[Any, str, DropHandler], Any]


@cache
def format_check(fmt: str) -> Callable[[str], bool]:
    """The string check for a JSON-schema `format`, from the same engine as `XdmValidator`'s hot path, so the
    mapper and the validator never disagree on what a `date-time`, `uri-reference` or `email` is."""
    validator = jsonschema_rs.Draft6Validator({"type": "string", "format": fmt}, validate_formats=True)
    return validator.is_valid


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def fit_value(value: Any, node: SchemaNode, path: str, on_drop: DropHandler) -> Any:
    """Return `value` shaped to `node`, or `DROP` (after calling `on_drop(path)`) when it cannot fit."""
    return fitter_for(node)(value, path, on_drop)


def fitter_for(node: SchemaNode) -> Fitter:
    """The compiled fitter of `node` (built on first use and kept on the node)."""
    fitter = node.fitter
    if fitter is None:
        if node.kind == "object":
            fitter = _object_fitter(node)
        elif node.kind == "map":
            fitter = _map_fitter(node)
        elif node.kind == "array":
            fitter = _array_fitter(node)
        else:
            fitter = _scalar_fitter(node)
        node.fitter = fitter
    return fitter


def _object_fitter(node: SchemaNode) -> Fitter:
    # key -> (the exact types that fit as they are; the strings already seen to fit; the child's fitter). The
    # first two are the child fitter's own fast path (`_scalar_fitter`) done here without the call and its path
    # string: a value of such a type, or a string in the set, is what the child's fitter returns unchanged.
    children = {key: (*_fast_path(child), fitter_for(child)) for key, child in node.properties.items()}
    required = node.required
    # `{"primary": true}` alone (an e-mail or phone whose value was dropped) says nothing: drop it too. Both
    # checks are decided here, once per node, since most objects have neither a `primary` key nor requirements.
    may_be_primary_only = "primary" in children

    def fit_object(value: Any, path: str, on_drop: DropHandler) -> Any:
        if value is None:
            return DROP
        if not isinstance(value, dict):
            on_drop(path, DROPPED, _wrong_type("an object", value))
            return DROP
        fitted: dict[str, Any] = {}
        for key, sub in value.items():
            if sub is None:
                continue
            child = children.get(key)
            if child is None:
                on_drop(f"{path}.{key}", DROPPED, NO_PLACE)
                continue
            kind = type(sub)
            if kind in child[0] or (kind is str and sub in child[1]):  # fits as it is (`_fast_path`)
                fitted[key] = sub
                continue
            result = child[2](sub, f"{path}.{key}", on_drop)
            if result is not DROP:
                fitted[key] = result
        if not fitted:
            return DROP
        if (may_be_primary_only and fitted.keys() == {"primary"}) or (
            required and any(req not in fitted for req in required)
        ):
            on_drop(path, DROPPED, INCOMPLETE)
            return DROP
        return fitted

    return fit_object


_NO_STRINGS: frozenset[str] = frozenset()


def _fast_path(node: SchemaNode) -> tuple[frozenset[type], set[str] | frozenset[str]]:
    """What `fitter_for(node)` returns unchanged without a check: values of these exact types (an unconstrained
    leaf: `plain_type`, or int and float for a number without range or enum), and the strings of this set (the
    strings a constrained string leaf has already seen to fit, `fit_string.fits`, filled as it goes)."""
    fitter = fitter_for(node)
    if node.kind == "number" and (node.minimum, node.maximum, node.enum) == (None, None, None):
        return frozenset({int, float}), _NO_STRINGS
    if node.plain_type is not None:
        return frozenset({node.plain_type}), _NO_STRINGS
    return frozenset(), getattr(fitter, "fits", _NO_STRINGS)


def fits_as_is_source(var: str, node: SchemaNode, name: str) -> tuple[str | None, dict[str, Any]]:
    """For generated code: a Python condition on the variable `var` that holds only where `fitter_for(node)`
    would return `var` unchanged without reporting anything, and the names it uses (prefixed by `name`), or
    (None, {}) when there is no such cheap test. The generated code still calls the fitter whenever the test
    fails, so the fitter stays the one definition: the test only skips checks whose outcome it already knows
    (what `_fast_path` does for a parent object, plus the range of a bounded integer, read from the node)."""
    fitter = fitter_for(node)
    if node.kind == "number" and (node.minimum, node.maximum, node.enum) == (None, None, None):
        return f"(type({var}) is int or type({var}) is float)", {}
    if node.plain_type is not None:
        return f"type({var}) is {name}_T", {f"{name}_T": node.plain_type}
    if node.kind == "integer" and node.enum is None and None not in (node.minimum, node.maximum):
        # `fit_number`: an int within [minimum, maximum] is returned as it is
        return f"(type({var}) is int and {node.minimum!r} <= {var} <= {node.maximum!r})", {}
    fits = getattr(fitter, "fits", None)
    if fits is not None:  # a constrained string leaf: the strings it has already seen to fit (`fit_string.fits`)
        return f"(type({var}) is str and {var} in {name}_FITS)", {f"{name}_FITS": fits}
    return None, {}


KEY_SEQUENCES_PER_NODE = 16  # straight-line fitters kept per object node (`keyed_fitter_for`); beyond, the loop


def keyed_fitter_for(node: SchemaNode) -> Fitter:
    """`fitter_for(node)` in the form the compiled mapping calls for a block it builds itself (`commerce`, an
    address): an object node's value is fitted by straight-line code generated for its sequence of keys (a
    mapping's own blocks come back with the same few sequences, e.g. a charge's order), nested objects and
    arrays of objects likewise; any other value, or beyond `KEY_SEQUENCES_PER_NODE` sequences, by `fitter_for`'s
    loop. Same value, same key order, same reports (tests/target/test_compiled_mapping.py compares them)."""
    if node.kind == "array" and node.values is not None and node.values.kind == "object":
        return _array_fitter(node, keyed_fitter_for)
    if node.kind != "object":
        return fitter_for(node)
    generic = fitter_for(node)
    by_keys: dict[tuple[str, ...], Fitter] = {}

    def fit_keyed(value: Any, path: str, on_drop: DropHandler) -> Any:
        if type(value) is not dict:
            return generic(value, path, on_drop)
        keys = tuple(value)
        fit = by_keys.get(keys)
        if fit is None:
            if len(by_keys) >= KEY_SEQUENCES_PER_NODE:
                return generic(value, path, on_drop)
            fit = by_keys[keys] = fitter_for_keys(node, keys)
        return fit(value, path, on_drop)

    return fit_keyed


def fitter_for_keys(node: SchemaNode, keys: tuple[str, ...]) -> Fitter:
    """`_object_fitter`'s loop unrolled for a dict whose keys are exactly `keys`, in this order (the generated
    code that builds such a dict itself calls it directly: `order_compiled`'s payment and refund entries)."""
    namespace: dict[str, Any] = {"DROP": DROP, "DROPPED": DROPPED, "NO_PLACE": NO_PLACE, "INCOMPLETE": INCOMPLETE}
    lines = ["fitted = {}\n"]
    for index, key in enumerate(keys):
        child = node.properties.get(key)
        lines.append(f"s = value[{key!r}]\nif s is not None:\n")
        if child is None:
            lines.append(f"    on_drop(path + {'.' + key!r}, DROPPED, NO_PLACE)\n")
            continue
        namespace[f"fit_{index}"] = keyed_fitter_for(child)
        call = f"r = fit_{index}(s, path + {'.' + key!r}, on_drop)\nif r is not DROP:\n    fitted[{key!r}] = r\n"
        fast, names = fits_as_is_source("s", child, f"N_{index}")
        if fast is not None:
            namespace.update(names)
            lines.append(f"    if {fast}:\n        fitted[{key!r}] = s\n    else:\n" + _indented(call, 8))
        else:
            lines.append(_indented(call, 4))
    lines.append("if not fitted:\n    return DROP\n")
    checks = []
    if "primary" in node.properties:
        checks.append("fitted.keys() == {'primary'}")
    if node.required:
        checks.extend(f"{req!r} not in fitted" for req in node.required)
    if checks:
        lines.append(f"if {' or '.join(checks)}:\n    on_drop(path, DROPPED, INCOMPLETE)\n    return DROP\n")
    lines.append("return fitted\n")
    source = "def fit_keys(value, path, on_drop):\n" + _indented("".join(lines), 4)
    return define(source, "fit_keys", namespace, "<object fitter>")  # generated from the schema node and the keys


def _indented(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in text.splitlines())


def _map_fitter(node: SchemaNode) -> Fitter:
    assert node.values is not None
    plain = node.values.plain_type
    fit_item = fitter_for(node.values)

    def fit_map(value: Any, path: str, on_drop: DropHandler) -> Any:
        if value is None:
            return DROP
        if not isinstance(value, dict):
            on_drop(path, DROPPED, _wrong_type("an object", value))
            return DROP
        fitted = {}
        for key, sub in value.items():
            if type(sub) is plain:
                fitted[str(key)] = sub
                continue
            result = fit_item(sub, f"{path}.{key}", on_drop)
            if result is not DROP:
                fitted[str(key)] = result
        return fitted if fitted else DROP

    return fit_map


def _array_fitter(node: SchemaNode, item_fitter: Callable[[SchemaNode], Fitter] | None = None) -> Fitter:
    """A list's fitter: each item by ``item_fitter`` (default `fitter_for`; `keyed_fitter_for` for built blocks)."""
    assert node.values is not None
    fit_item = (item_fitter or fitter_for)(node.values)

    def fit_array(value: Any, path: str, on_drop: DropHandler) -> Any:
        if value is None:
            return DROP
        if not isinstance(value, list):
            on_drop(path, DROPPED, _wrong_type("a list", value))
            return DROP
        item_path = f"{path}[]"
        kept = [item for item in (fit_item(item, item_path, on_drop) for item in value) if item is not DROP]
        return kept if kept else DROP

    return fit_array


def _scalar_fitter(node: SchemaNode) -> Fitter:
    """A leaf: the fast path for a value of the node's own type, `_fit_scalar` for everything else."""
    kind = node.kind
    enum = node.enum
    minimum, maximum = node.minimum, node.maximum
    if kind not in ("string", "integer", "number") or (kind == "string" and (minimum, maximum) != (None, None)):

        def fit_any(value: Any, path: str, on_drop: DropHandler) -> Any:
            return DROP if value is None else _fit_scalar(value, node, path, on_drop)

        return fit_any
    if kind == "string":
        max_length = node.max_length
        search = node.pattern.search if node.pattern is not None else None
        check = format_check(node.fmt) if node.fmt is not None else None
        # Strings already seen to fit as they are. Fitting a string is a pure function of the string, and the
        # same few values come back on every record (an `eventType`, `producedBy`, a currency code, a day's
        # timestamps), so a set look-up replaces the pattern and format checks (a format check is a call into
        # jsonschema_rs, about a microsecond). Bounded: emptied when full. Leaves with the same constraints share
        # one set (`_shared_fits`): a record's `updated` is its `timestamp`, its order's `lastUpdatedDate` and its
        # tenant block's `updated`, checked once instead of three times.
        fits = _shared_fits(node)

        def fit_string(value: Any, path: str, on_drop: DropHandler) -> Any:
            if type(value) is not str:
                return DROP if value is None else _fit_scalar(value, node, path, on_drop)
            if value in fits:
                return value
            whole = True
            if max_length is not None and len(value) > max_length:
                value = value[:max_length]
                on_drop(path, TRUNCATED, _cut(max_length))
                whole = False
            if (
                (search is not None and search(value) is None)
                or (check is not None and not check(value))
                or (enum is not None and value not in enum)
            ):
                on_drop(path, DROPPED, _string_reason(node, value))
                return DROP
            if whole:
                if len(fits) >= FIT_CACHE_SIZE:
                    fits.clear()
                fits.add(value)
            return value

        fit_string.fits = fits  # type: ignore[attr-defined]  # its parent object's fast path reads it (`_fast_path`)
        return fit_string
    own_types = (int,) if kind == "integer" else (int, float)

    def fit_number(value: Any, path: str, on_drop: DropHandler) -> Any:
        if type(value) not in own_types:  # bool, float for an integer, or not a number: the full rules
            return DROP if value is None else _fit_scalar(value, node, path, on_drop)
        if (
            (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
            or (enum is not None and value not in enum)
        ):
            on_drop(path, DROPPED, "not one of the schema's values" if enum is not None else _range_reason(node))
            return DROP
        return value

    return fit_number


# (maxLength, pattern, format, enum) -> the strings seen to fit a string leaf with exactly these constraints.
_FITS_BY_CONSTRAINTS: dict[tuple[Any, ...], set[str]] = {}


def _shared_fits(node: SchemaNode) -> set[str]:
    """The set of strings seen to fit `node` unchanged, shared by every string leaf with the same constraints:
    whether a string fits unchanged is a function of the string and these four constraints alone (`fit_string`;
    a leaf with a `minimum` or `maximum` never gets here)."""
    key = (node.max_length, node.pattern.pattern if node.pattern is not None else None, node.fmt, node.enum)
    fits = _FITS_BY_CONSTRAINTS.get(key)
    if fits is None:
        fits = _FITS_BY_CONSTRAINTS[key] = set()
    return fits


def _string_reason(node: SchemaNode, text: str) -> str:
    """Why a string does not fit `node`: the first failing check, in the order `_fit_scalar` applies them."""
    if node.pattern is not None and node.pattern.search(text) is None:
        return f"does not match the schema's pattern {node.pattern.pattern}"
    if node.fmt is not None and not format_check(node.fmt)(text):
        return _format_reason(node.fmt)
    if node.enum is not None and text not in node.enum:
        return "not one of the schema's values"
    return _range_reason(node)


def _fit_scalar(value: Any, node: SchemaNode, path: str, on_drop: DropHandler) -> Any:
    kind = node.kind
    if kind == "string":
        if isinstance(value, (dict, list)) and not value:
            return DROP
        text = value if isinstance(value, str) else _as_string(value)
        if text is not value:
            on_drop(path, CONVERTED, f"a {type(value).__name__} written as text")
        if node.max_length is not None and len(text) > node.max_length:
            text = text[: node.max_length]
            on_drop(path, TRUNCATED, _cut(node.max_length))
        if node.pattern is not None and node.pattern.search(text) is None:
            on_drop(path, DROPPED, _string_reason(node, text))
            return DROP
        if node.fmt is not None and not format_check(node.fmt)(text):
            on_drop(path, DROPPED, _string_reason(node, text))
            return DROP
        value = text
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            on_drop(path, DROPPED, _wrong_type("an integer", value))
            return DROP
        if isinstance(value, float):
            if not value.is_integer():
                on_drop(path, DROPPED, _wrong_type("an integer", value))
                return DROP
            value = int(value)  # 5.0 -> 5: the same number, nothing to report
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            on_drop(path, DROPPED, _wrong_type("a number", value))
            return DROP
    elif kind == "boolean" and not isinstance(value, bool):
        on_drop(path, DROPPED, _wrong_type("a boolean", value))
        return DROP
    if (node.minimum is not None and value < node.minimum) or (node.maximum is not None and value > node.maximum):
        on_drop(path, DROPPED, _range_reason(node))
        return DROP
    if node.enum is not None and value not in node.enum:
        on_drop(path, DROPPED, "not one of the schema's values")
        return DROP
    return value
