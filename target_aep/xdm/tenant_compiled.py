"""The tenant block `_{tenant}.stripe`, compiled per schema node and Stripe object type into one Python function.

`tenant.tenant_rule` is the readable definition: `stripe_details` builds every candidate field (None for what a
record lacks), then `fitting` keeps what the schema accepts. That costs a 20-key dict, a generic loop and a call
per field for every record, and was a third of the mapping. Here the same steps are generated as straight-line
source for one (schema node, object type) pair: the object type decides at compile time which fields exist and
where they come from, and each field's fitting is reduced to what its schema node needs (a `type(v) is str`
test for an unconstrained string). Rare branches call the readable helpers, so there is one definition of each
rule. `tests/target/test_compiled_mapping.py` compares both paths byte for byte on a large randomized corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from target_aep.xdm import stripe_fields as sf
from target_aep.xdm.currency import currency_code
from target_aep.xdm.fitting import DROP, INCOMPLETE, NO_PLACE, DropHandler, fits_as_is_source, fitter_for
from target_aep.xdm.generated_code import define
from target_aep.xdm.repairs import DROPPED, RepairLog
from target_aep.xdm.schema_tree import SchemaNode

TenantBlock = Callable[[dict[str, Any], RepairLog, DropHandler], Any]


def _value_at(path: str) -> str:
    """Lines computing `y` = `get_path(record, path)` (a path without list indexes)."""
    first, *rest = path.split(".")
    lines = f"y = get({first!r})\n"
    for part in rest:
        lines += f"y = y.get({part!r}) if isinstance(y, dict) else None\n"
    return lines


def _ref_at(path: str) -> str:
    """Lines computing `y` = `ref_id(get_path(record, path))`."""
    return _value_at(path) + "if type(y) is str:\n    y = y or None\nelif y is not None:\n    y = _ref_id(y)\n"


def _first_ref(paths: tuple[str, ...], otherwise: str = "") -> str:
    """Lines computing `x` = `ref_id(a) or ref_id(b) or ...` over `paths` (then `otherwise`'s lines if falsy)."""
    lines = _ref_at(paths[0]) + "x = y\n"
    if len(paths) > 1:
        lines += "if not x:\n" + _indent(_first_ref(paths[1:], otherwise), 4)
    elif otherwise:
        lines += "if not x:\n" + _indent(otherwise, 4)
    return lines


def _name_source(obj_type: str) -> str:
    """`sf._name` for `obj_type`, inlined for the common types, then `truncate(..., 256)`."""
    if obj_type == "event":
        name = "x = get('type')\n"
    elif obj_type == "promotion_code":
        name = "x = get('code')\n"
    elif obj_type in ("account", "person", "bank_account", "card"):
        name = "x = _name(record, OBJ_TYPE)\n"
    else:
        name = "x = get('name') or get('nickname')\n"
    return name + (
        "if x is not None and not (type(x) is str and 0 < len(x) <= 256):  # (None: nothing to cut)\n"
        "    _note_cut(repairs, 'name', PATH + '.name', x, 256)\n"
        "    x = _truncate(x, 256)\n"
    )


def _field_sources(obj_type: str) -> dict[str, str]:
    """Source lines computing each candidate field into `x` (`y` is scratch), in `stripe_details`'s order; a
    field the object type never has (a customer's own `customerId`) is left out, as `stripe_details` leaves it
    None."""
    amount_path = sf._AMOUNT_FIELDS.get(obj_type, "amount")
    currency_path = sf._CURRENCY_FIELDS.get(obj_type, "currency")

    def path(p: str) -> str:
        return f"x = get({p!r})\n" if "." not in p else _value_at(p) + "x = y\n"

    sources: dict[str, str] = {
        "objectType": "x = OBJ_TYPE\n",
        "id": "x = get('id')\n",
        "account": "x = get('account_id') or get('account')\n",
        "status": (
            "x = get('status')\n"
            "if not isinstance(x, str):\n"
            "    y = get('active')\n"  # `"active" in record and isinstance(record["active"], bool)`
            "    if type(y) is bool:\n"
            "        x = 'active' if y else 'inactive'\n"
            "    else:\n"
            "        y = get('valid')\n"
            "        x = ('valid' if y else 'invalid') if type(y) is bool else None\n"
        ),
        "currency": path(currency_path),
    }  # fmt: skip
    if obj_type != "customer":
        if obj_type == "event":
            sources["customerId"] = "x = _customer_id(record, OBJ_TYPE)\n"
        else:
            sources["customerId"] = _first_ref(("customer",))
    if obj_type != "invoice":
        sources["invoiceId"] = _first_ref(("invoice",))
    if obj_type != "subscription":
        sources["subscriptionId"] = _first_ref(
            (
                "subscription",
                "parent.subscription_details.subscription",
                "parent.subscription_item_details.subscription",
            )
        )
    if obj_type != "payment_intent":
        sources["paymentIntentId"] = _first_ref(("payment_intent",))
    if obj_type != "product":
        sources["productId"] = _first_ref(("product", "pricing.price_details.product", "price.product"))
    if obj_type == "product":
        sources["priceId"] = _first_ref(("default_price",))
    elif obj_type not in ("price", "plan"):
        plan = _first_ref(("plan",)) if obj_type == "subscription_item" else "x = None\n"
        sources["priceId"] = _first_ref(("price", "pricing.price_details.price"), plan)
    sources.update(
        {
            "amount": path(amount_path),
            "amountRefunded": "x = get('amount_refunded')\n",
            "created": "x = get('created')\n",
            "updated": "x = get('updated') or get('created')\n",
            "livemode": "x = get('livemode')\n",
            "deleted": "x = bool(get('is_deleted') or get('deleted'))\n",
            "metadata": "x = get('metadata')\nif not (isinstance(x, dict) and x):\n    x = None\n",
            "description": (
                "x = get('description') or get('memo')\n"
                "if x is not None and not (type(x) is str and 0 < len(x) <= DESCRIPTION_LIMIT):\n"
                "    _note_cut(repairs, 'description' if get('description') else 'memo', PATH + '.description',\n"
                "              x, DESCRIPTION_LIMIT)\n"
                "    x = _truncate(x)\n"
            ),
            "name": _name_source(obj_type),
        }
    )
    return sources


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in text.splitlines())


def _fits_unchanged(node: SchemaNode, value: Any, path: str) -> bool:
    """Whether `value` (a constant) comes out of fitting to `node` unchanged with nothing reported."""
    reported: list[str] = []
    fitted = fitter_for(node)(value, path, lambda where, *_: reported.append(where))
    return fitted == value and type(fitted) is type(value) and not reported


def _string_map(node: SchemaNode) -> bool:
    """Whether `node` is a map whose values are unconstrained strings (`fit_map` keeps a dict of strings as is)."""
    return node.kind == "map" and node.values is not None and node.values.plain_type is str


def compile_tenant_block(
    node: SchemaNode, path: str, obj_type: str, budget: int, others: TenantBlock | None = None
) -> TenantBlock:
    """`_{tenant}.stripe` for records of `obj_type`, fitted to `node` (an object node): the fitted dict or DROP.

    Same result, same `on_drop` calls and same repairs as `fit_value(tenant_rule's produce(...))`. With `others`,
    the block checks the record's own `object` first and hands any record not saying `obj_type` to `others`.
    """
    assert node.kind == "object"
    sources = _field_sources(obj_type)
    namespace: dict[str, Any] = {
        "DROP": DROP,
        "DROPPED": DROPPED,
        "NO_PLACE": NO_PLACE,
        "INCOMPLETE": INCOMPLETE,
        "OBJ_TYPE": obj_type,
        "BUDGET": budget,
        "PATH": path,
        "DESCRIPTION_LIMIT": sf.DESCRIPTION_LIMIT,
        "_get_path": sf.get_path,
        "_ref_id": sf.ref_id,
        "_customer_id": sf.customer_id,
        "_name": sf._name,
        "_truncate": sf.truncate,
        "_currency_code": currency_code,
        "OTHERS": others,
    }
    # Imported here: tenant.py imports the compiler for its rule (the readable produce stays there).
    from target_aep.xdm.tenant import AmountWithoutCurrencyError, bounded_metadata, note_cut

    namespace["_AmountError"] = AmountWithoutCurrencyError
    namespace["_bounded_metadata"] = bounded_metadata
    namespace["_note_cut"] = note_cut
    names = list(sources)
    body = ["get = record.get\n"]
    if others is not None:
        body.append("if get('object') != OBJ_TYPE:\n    return OTHERS(record, repairs, on_drop)\n")
    for name in names:
        # Each snippet computes its field into the variable `x`, renamed here to the field's own local.
        body.append(re.sub(r"\bx\b", f"f_{name}", sources[name]))
    amount = "f_amount" if "amount" in sources else "None"
    body.append(
        f"if ({amount} is not None or f_amountRefunded is not None) and _currency_code(f_currency) is None:\n"
        "    raise _AmountError(\n"
        f"        f'amount {{{amount}!r}} without a valid ISO 4217 currency (currency: {{f_currency!r}})'\n"
        "    )\n"
        "if f_metadata:\n"
        "    f_metadata = _bounded_metadata(f_metadata, BUDGET, repairs, PATH + '.metadata')\n"
        "out = {}\n"
    )
    for name in names:
        child = node.properties.get(name)
        var = f"f_{name}"
        key_path = f"{path}.{name}"
        if child is None:
            body.append(f"if {var} is not None:\n    on_drop({key_path!r}, DROPPED, NO_PLACE)\n")
            continue
        fit = f"fit_{name}"
        namespace[fit] = fitter_for(child)
        if name == "objectType" and _fits_unchanged(child, obj_type, key_path):
            body.append(f"out[{name!r}] = OBJ_TYPE\n")  # the object type is a constant: fitted once, here
            continue
        if name == "metadata" and _string_map(child):
            # `bounded_metadata` gives a dict of strings: a map of unconstrained strings takes it as it is, and
            # `fit_map` would drop it only for being empty (every value None or beyond the budget).
            body.append(f"if {var}:\n    out[{name!r}] = {var}\n")
            continue
        fitted = f"r = {fit}({var}, {key_path!r}, on_drop)\nif r is not DROP:\n    out[{name!r}] = r\n"
        fast, fast_names = fits_as_is_source(var, child, f"N_{name}")
        if fast is not None:
            namespace.update(fast_names)
            code = f"if {fast}:\n    out[{name!r}] = {var}\nelse:\n" + _indent(fitted, 4)
        else:
            code = fitted
        body.append(f"if {var} is not None:\n" + _indent(code, 4))
    body.append("if not out:\n    return DROP\n")
    if "primary" in node.properties:
        body.append("if out.keys() == {'primary'}:\n    on_drop(PATH, DROPPED, INCOMPLETE)\n    return DROP\n")
    if node.required:
        missing = " or ".join(f"{req!r} not in out" for req in node.required)
        body.append(f"if {missing}:\n    on_drop(PATH, DROPPED, INCOMPLETE)\n    return DROP\n")
    body.append("return out\n")
    source = "def tenant_block(record, repairs, on_drop):\n" + _indent("".join(body), 4)
    block: TenantBlock = define(source, "tenant_block", namespace, f"<tenant block {obj_type}>")
    block.source = source  # type: ignore[attr-defined]  # for a reader debugging a difference
    return block


def tenant_block_for_stream(node: SchemaNode, path: str, stream_name: str, budget: int) -> TenantBlock:
    """The tenant block of any record of `stream_name`: the stream's own object type compiled now, called
    directly when a record says it is of that type (one call a record: almost every record); any other record
    (an event stream's or a hand-made record's other type, a record without `object`) goes through a block
    compiled per object type on first sight."""
    compiled: dict[str, TenantBlock] = {}

    def block(record: dict[str, Any], repairs: RepairLog, on_drop: DropHandler) -> Any:
        obj_type = record.get("object")
        if type(obj_type) is not str or not obj_type:
            obj_type = sf.object_type(record, stream_name)
        fn = compiled.get(obj_type)
        if fn is None:
            fn = compiled[obj_type] = compile_tenant_block(node, path, obj_type, budget)
        return fn(record, repairs, on_drop)

    return compile_tenant_block(node, path, sf.object_type({}, stream_name), budget, others=block)
