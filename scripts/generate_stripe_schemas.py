"""Generate the tap's stream schemas from the pinned `stripe` package's typed resource classes.

    python scripts/generate_stripe_schemas.py          # (re)write tap_stripe_aep/schemas/*.json
    python scripts/generate_stripe_schemas.py --check  # exit 1 and list the files that differ

stripe-python is generated from Stripe's OpenAPI spec for one API version (`stripe.api_version`), and every
resource class annotates each attribute with its type followed by a docstring. The module source is read
with `ast` rather than `typing.get_type_hints` because the annotations use forward references that only
resolve under `TYPE_CHECKING`.

Type mapping (JSON Schema draft 2020-12 subset the Singer SDK understands):

- ``Optional[X]`` -> X plus ``null``; ``str``/``int``/``float``/``bool`` -> string/integer/number/boolean.
- ``Literal[...]`` -> its plain type, no ``enum``: Stripe adds values without a new API version.
- ``UntypedStripeObject[X]`` / ``Dict[str, X]`` (``metadata`` and friends) -> object of X values.
- ``ExpandableField[X]`` -> the id string: the tap never expands, so these are always ids.
- ``ListObject[X]`` -> Stripe's list envelope (``object``, ``data``, ``has_more``, ``url``, ``total_count``).
- Nested ``class Foo(StripeObject)`` and other resource classes -> objects, recursively, up to ``MAX_DEPTH``
  levels; deeper objects become a permissive object.
- Integer fields holding a Unix time (see `is_epoch_field`) -> ``date-time`` strings, because the tap emits
  them as RFC 3339 UTC strings (`tap_stripe_aep.record_conventions`).

Every schema also gets the tap's convention fields (``updated``, ``is_deleted``, ``account_id``) and
requires ``id``. Output is deterministic: sorted keys, two-space indent, trailing newline.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tap_stripe_aep.stream_catalog import (  # noqa: E402
    STREAMS,
    STRIPE_API_VERSION,
    STRIPE_PACKAGE_VERSION,
    StripeStream,
)

SCHEMA_DIR = REPO_ROOT / "tap_stripe_aep" / "schemas"
VERSIONS_FILE = "_generated.json"
MAX_DEPTH = 4
"""Object levels below a record that get typed properties; deeper objects are passed through untyped."""

Schema = dict[str, Any]

EXPANDABLE_NOTE = "Stripe id of the related object (the tap never expands references)."
DATE_TIME_NOTE = "RFC 3339 UTC date-time; Stripe sends Unix seconds."

# Docstrings that say an integer is a point in time. Stripe's wording varies across classes:
# "Measured in seconds since the Unix epoch", "Timestamp ...", "The time at which ...", "... date ...".
_EPOCH_DOC = re.compile(r"seconds since (the )?unix epoch|epoch seconds|unix timestamp", re.IGNORECASE)
_MILLIS_DOC = re.compile(r"milliseconds", re.IGNORECASE)
_TIME_DOC = re.compile(
    r"\b(timestamp|time at which|date (at|on) which|the time (when|that)|(start|end) time|"
    r"date (after|before|by|when|that)|time when)\b",
    re.IGNORECASE,
)
# Integer fields that are times even though their docstring does not say so (it talks about the period).
_TIME_NAMES = re.compile(
    r"^(created|updated|period_start|period_end|current_period_start|current_period_end|start|end|"
    r"[a-z_]*_at|[a-z_]*_date|[a-z_]*_until|arrival_date|available_on|due_by|expires|trial_start|trial_end|"
    r"billing_cycle_anchor|start_date|ended_at|canceled_at|cancel_at)$"
)
# Integer fields whose names look like times but hold counts, amounts or durations.
_NOT_TIME_NAMES = re.compile(r"(amount|count|days|months|years|interval|_in_|percent|number|quantity)")


def is_epoch_field(name: str, docstring: str) -> bool:
    """True when an `int` attribute holds Unix seconds (the tap emits those as date-time strings)."""
    if _MILLIS_DOC.search(docstring):
        return False
    if _EPOCH_DOC.search(docstring):
        return True
    if _NOT_TIME_NAMES.search(name):
        return False
    return bool(_TIME_NAMES.match(name) or _TIME_DOC.search(docstring))


def first_sentence(docstring: str) -> str:
    """The docstring's first sentence: the schemas stay readable (Stripe's full docs are a link away)."""
    match = re.match(r"(.+?[.!?])(\s|$)", docstring)
    return match.group(1) if match else docstring


# --- reading the stripe package's source ---------------------------------------------------------------


@dataclass
class ClassInfo:
    """One class in a stripe module: its annotated attributes and the classes nested in it."""

    name: str
    module: str
    node: ast.ClassDef
    parent: ClassInfo | None
    attributes: list[tuple[str, ast.expr, str]] = field(default_factory=list)
    nested: dict[str, ClassInfo] = field(default_factory=dict)


@dataclass
class ModuleInfo:
    """A parsed stripe module: top-level classes and the names it imports (also under TYPE_CHECKING)."""

    name: str
    classes: dict[str, ClassInfo]
    imports: dict[str, tuple[str, str]]  # local name -> (module, name there): `Card as CardResource`


def _docstring_after(body: list[ast.stmt], index: int) -> str:
    if index + 1 < len(body):
        following = body[index + 1]
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            return " ".join(following.value.value.split())
    return ""


def _read_class(node: ast.ClassDef, module: str, parent: ClassInfo | None) -> ClassInfo:
    info = ClassInfo(node.name, module, node, parent)
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.ClassDef):
            info.nested[statement.name] = _read_class(statement, module, info)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            annotation = statement.annotation
            is_classvar = isinstance(annotation, ast.Subscript) and _name_of(annotation.value) == "ClassVar"
            if name.startswith("_") or is_classvar:
                continue
            info.attributes.append((name, annotation, _docstring_after(node.body, index)))
    return info


def _collect_imports(tree: ast.Module) -> dict[str, tuple[str, str]]:
    imports: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stripe"):
            for alias in node.names:
                imports[alias.asname or alias.name] = (node.module, alias.name)
    return imports


@cache
def read_module(module: str) -> ModuleInfo:
    """Parse one stripe module's source (never imports it)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"cannot find the source of {module}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    classes = {node.name: _read_class(node, module, None) for node in tree.body if isinstance(node, ast.ClassDef)}
    return ModuleInfo(module, classes, _collect_imports(tree))


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def resolve_class(name: str, scope: ClassInfo) -> ClassInfo | None:
    """Find the class a (possibly quoted) name means inside `scope`: nested classes first, then the module."""
    parts = name.split(".")
    owner: ClassInfo | None = scope
    while owner is not None:
        if parts[0] in owner.nested:
            found = owner.nested[parts[0]]
            for part in parts[1:]:
                found = found.nested[part]
            return found
        owner = owner.parent
    module = read_module(scope.module)
    if parts[0] in module.classes:
        return module.classes[parts[0]]
    if parts[0] in module.imports:
        other_module, other_name = module.imports[parts[0]]
        return read_module(other_module).classes.get(other_name)
    return None


# --- type annotations -> JSON Schema -------------------------------------------------------------------


def _nullable(schema: Schema) -> Schema:
    if not schema:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list) and "null" not in kind:
        return {**schema, "type": [*kind, "null"]}
    return schema


def _permissive_object() -> Schema:
    return {"type": ["object", "null"], "additionalProperties": True}


def _subscript_args(node: ast.Subscript) -> list[ast.expr]:
    inner = node.slice
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def _literal_type(values: list[ast.expr]) -> Schema:
    kinds = {type(value.value) for value in values if isinstance(value, ast.Constant)}
    if kinds == {bool}:
        return {"type": "boolean"}
    if kinds == {int}:
        return {"type": "integer"}
    return {"type": "string"}


class SchemaBuilder:
    """Turns one resource class into a JSON Schema, remembering what it could not type."""

    def __init__(self) -> None:
        self.unknown: set[str] = set()

    def object_schema(self, info: ClassInfo, depth: int) -> Schema:
        if depth > MAX_DEPTH:
            return _permissive_object()
        properties = {
            name: self.attribute_schema(name, annotation, docstring, info, depth)
            for name, annotation, docstring in info.attributes
        }
        return {"type": "object", "properties": dict(sorted(properties.items()))}

    def attribute_schema(self, name: str, annotation: ast.expr, docstring: str, scope: ClassInfo, depth: int) -> Schema:
        schema = self.type_schema(annotation, scope, depth)
        if not schema:
            return schema
        notes = [first_sentence(docstring)] if docstring else []
        kind = schema.get("type")
        base = [kind] if isinstance(kind, str) else (kind or [])
        if "integer" in base and is_epoch_field(name, docstring):
            schema = {"type": ["string", "null"], "format": "date-time"}
            notes.append(DATE_TIME_NOTE)
        elif schema.get("description") == EXPANDABLE_NOTE:
            notes.append(EXPANDABLE_NOTE)
        if notes:
            schema = {**schema, "description": " ".join(notes)}
        return schema

    def type_schema(self, node: ast.expr, scope: ClassInfo, depth: int) -> Schema:
        """The schema of one type expression; `depth` is the object level the value sits at."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in {"str", "int", "float", "bool"}:
                return self.type_schema(ast.Name(node.value), scope, depth)
            return self.class_schema(node.value, scope, depth)
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = _name_of(node)
            primitive = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
            if name in primitive:
                return {"type": primitive[name]}
            if name == "Any":
                return {}
            if name == "Decimal":
                # Stripe sends decimals (`unit_amount_decimal`) as strings to keep their precision.
                return {"type": "string"}
            if name in {"StripeObject", "UntypedStripeObject", "Dict", "dict"}:
                return {"type": "object", "additionalProperties": True}
            return self.class_schema(name, scope, depth)
        if isinstance(node, ast.Subscript):
            return self.generic_schema(node, scope, depth)
        self.unknown.add(ast.unparse(node))
        return {}

    def generic_schema(self, node: ast.Subscript, scope: ClassInfo, depth: int) -> Schema:
        origin = _name_of(node.value)
        args = _subscript_args(node)
        if origin == "Optional":
            return _nullable(self.type_schema(args[0], scope, depth))
        if origin == "Literal":
            return _literal_type(args)
        if origin == "ExpandableField":
            return {"type": "string", "description": EXPANDABLE_NOTE}
        if origin in {"List", "list"}:
            return {"type": "array", "items": self.type_schema(args[0], scope, depth)}
        if origin in {"Dict", "dict", "Mapping", "UntypedStripeObject"}:
            values = self.type_schema(args[-1], scope, depth + 1)
            return {"type": "object", "additionalProperties": values or True}
        if origin in {"ListObject", "SearchResultObject"}:
            return self.list_envelope(args[0], scope, depth)
        if origin == "Union":
            return self.union_schema(args, scope, depth)
        self.unknown.add(ast.unparse(node))
        return {}

    def union_schema(self, args: list[ast.expr], scope: ClassInfo, depth: int) -> Schema:
        members = [self.type_schema(arg, scope, depth) for arg in args]
        if any(not member for member in members):
            return {}
        kinds: set[str] = set()
        for member in members:
            kind = member.get("type")
            kinds.update([kind] if isinstance(kind, str) else kind or [])
        if kinds <= {"string", "null"} or len(members) == 1:
            merged: Schema = {"type": sorted(kinds) if len(kinds) > 1 else kinds.pop()}
            if members[0].get("description") == EXPANDABLE_NOTE:
                merged["description"] = EXPANDABLE_NOTE
            return merged
        # Mixed shapes (an object or an id, a string or a number): Stripe decides per record, so stay open.
        return {}

    def list_envelope(self, item: ast.expr, scope: ClassInfo, depth: int) -> Schema:
        if depth + 1 > MAX_DEPTH:
            return _permissive_object()
        return {
            "type": "object",
            "description": "A Stripe list (as sent: the first page only, see `has_more`).",
            "properties": {
                "data": {"type": "array", "items": self.type_schema(item, scope, depth + 1)},
                "has_more": {"type": "boolean"},
                "object": {"type": "string"},
                "total_count": {"type": ["integer", "null"]},
                "url": {"type": "string"},
            },
        }

    def class_schema(self, name: str, scope: ClassInfo, depth: int) -> Schema:
        target = resolve_class(name, scope)
        if target is None:
            self.unknown.add(name)
            return {}
        return self.object_schema(target, depth + 1)


# --- one schema per stream -----------------------------------------------------------------------------

CONVENTION_FIELDS: Schema = {
    "updated": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "When the tap last saw this object change: the event's time, else `created` "
        "(the replication key).",
    },
    "is_deleted": {
        "type": ["boolean", "null"],
        "description": "True when the tap saw this object's deletion (a `*.deleted` event).",
    },
    "account_id": {
        "type": ["string", "null"],
        "description": "The Stripe account the record was read from (Connect account or the key's own).",
    },
}


# Fields the tap adds to a stream's objects beyond Stripe's own (and beyond the parent's id).
ADDED_FIELDS: dict[str, Schema] = {
    # --- issue 9: H8
    "credit_note_line_items": {
        "currency": {
            "type": ["string", "null"],
            "description": "The credit note's currency (added by the tap: Stripe's line has amounts but no currency).",
        },
    },
}


def stripe_class_info(stream: StripeStream) -> ClassInfo:
    """The parsed source of the stream's typed class in the installed stripe package."""
    cls = stream.stripe_class
    module = read_module(cls.__module__)
    return module.classes[cls.__name__]


def stream_schema(stream: StripeStream) -> tuple[Schema, set[str]]:
    """The JSON Schema for one stream, plus the type expressions that had to be left untyped."""
    builder = SchemaBuilder()
    schema = builder.object_schema(stripe_class_info(stream), depth=0)
    properties = schema["properties"]
    properties["id"] = {**properties.get("id", {}), "type": "string"}
    properties.update(CONVENTION_FIELDS)
    parent_field = stream.parent_field
    if parent_field is not None and parent_field not in properties:
        # The tap fills it in for children Stripe returns without it (a checkout line item, a payout's
        # balance transaction): the record must say which parent it was read through.
        properties[parent_field] = {
            "type": ["string", "null"],
            "description": f"Stripe id of the parent {stream.parent} object.",
        }
    for name, extra in ADDED_FIELDS.get(stream.name, {}).items():
        properties.setdefault(name, extra)
    cls = stream.stripe_class
    return (
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$comment": f"Generated by scripts/generate_stripe_schemas.py from stripe-python "
            f"{STRIPE_PACKAGE_VERSION} ({cls.__module__}.{cls.__qualname__}), Stripe API version "
            f"{STRIPE_API_VERSION}. Do not edit.",
            "title": stream.name,
            "type": "object",
            "properties": dict(sorted(properties.items())),
            "required": ["id"],
        },
        builder.unknown,
    )


def render(document: Schema) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Every file the generator owns in `tap_stripe_aep/schemas/`, by file name, as text."""
    files = {f"{stream.name}.json": render(stream_schema(stream)[0]) for stream in STREAMS}
    files[VERSIONS_FILE] = render(
        {
            "generator": "scripts/generate_stripe_schemas.py",
            "max_depth": MAX_DEPTH,
            "streams": sorted(stream.name for stream in STREAMS),
            "stripe_api_version": STRIPE_API_VERSION,
            "stripe_package_version": STRIPE_PACKAGE_VERSION,
        }
    )
    return files


def drifted_files(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Names of generated files that are missing, different, or stale in `schema_dir`."""
    expected = generated_files()
    drifted = [
        name
        for name, text in expected.items()
        if not (schema_dir / name).exists() or (schema_dir / name).read_text(encoding="utf-8") != text
    ]
    drifted += [path.name for path in schema_dir.glob("*.json") if path.name not in expected]
    return sorted(drifted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in schemas differ")
    args = parser.parse_args(argv)
    if args.check:
        drifted = drifted_files()
        for name in drifted:
            print(f"drifted: tap_stripe_aep/schemas/{name}", file=sys.stderr)
        if drifted:
            print("run: python scripts/generate_stripe_schemas.py", file=sys.stderr)
        return 1 if drifted else 0
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    for stale in SCHEMA_DIR.glob("*.json"):
        if stale.name not in generated_files():
            stale.unlink()
    for name, text in generated_files().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(STREAMS)} schemas for Stripe API {STRIPE_API_VERSION} to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
