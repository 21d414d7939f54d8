"""The order builders of `commerce.ORDER_SPECS` as generated straight-line code, for the compiled mapping.

`commerce.order_from_spec` reads a stream's table of fields for every record (an interpreter: a call per field and
per sub-expression, a keyword call to `_order`, helpers looking the currency up again and again). Here the same
table becomes one function per stream: each expression written out as a Python expression, the record's
currency read and converted once, the order dict filled as `_order` fills it (None and [] left out, the keys in
the table's order), and `_order` itself called only to raise its error (money without a currency code). The
readable builder stays the definition: tests/target/test_compiled_mapping.py compares the two byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from target_aep.xdm.commerce import (
    _ORDER_MONEY,
    ORDER_SPECS,
    Expr,
    OrderSpec,
    _order,
    _sum_money,
    payment_type,
)
from target_aep.xdm.currency import _DIVISORS, currency_code, minor_to_major
from target_aep.xdm.fitting import DROP, NO_PLACE, fits_as_is_source, fitter_for_keys, keyed_fitter_for
from target_aep.xdm.generated_code import define
from target_aep.xdm.repairs import DROPPED, RepairLog
from target_aep.xdm.schema_tree import SchemaNode
from target_aep.xdm.stripe_fields import get_path, ref_id

# Expressions whose value is never a list: `_order`'s `!= []` test is left out for them.
_NEVER_A_LIST = frozenset({"ref", "money", "sum", "currency"})

OrderBuilder = Callable[[dict[str, Any]], "dict[str, Any] | None"]

# What a generated order reads once per record: the record's currency, its ISO code, and for the amounts
# (`_Writer.expression`'s `money`) the currency's divisor from `minor_to_major`'s table and its decimals.
_RECORD_LINES = (
    "get = record.get\n",
    "currency = get('currency')\n",
    "code = currency_code(currency)\n",
    "divisor = DIVISORS.get(currency) if type(currency) is str else None\n",
    "digits = 3 if divisor == 1000 else 2\n",
)
# fitted_order(record, repairs, on_drop) -> the order already fitted to its schema node, or None (no order)
FittedOrder = Callable[[dict[str, Any], RepairLog, Callable[[str, str, str], None]], "dict[str, Any] | None"]

# The keys of the one entry of a `payment` or `refund` list (`commerce._payment`, `_refund`), in their order.
_ENTRY_KEYS = {
    "payment": ("transactionID", "paymentAmount", "paymentType", "currencyCode"),
    "refund": ("transactionID", "refundAmount", "currencyCode"),
}


class _Writer:
    """Python source for the expressions of one spec; `names` holds the constants the source refers to."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {}
        self.temps = 0

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def constant(self, value: Any) -> str:
        name = f"C{len(self.names)}"
        self.names[name] = value
        return name

    def field(self, name: str) -> str:
        return f"get({name!r})" if "." not in name else f"get_path(record, {name!r})"

    def condition(self, condition: Expr) -> str:
        kind, name = condition[0], condition[1]
        if kind == "eq":
            return f"({self.field(name)} == {self.constant(condition[2])})"
        if kind == "positive":
            t = self.temp()
            return f"(isinstance({t} := {self.field(name)}, int) and {t} > 0)"
        if kind == "truthy":
            return f"{self.field(name)}"
        raise ValueError(f"unknown order condition {condition!r}")

    def expression(self, expr: Expr) -> str:
        """One expression of `ORDER_SPECS` as Python source, the value `commerce.order_value` gives."""
        kind = expr[0]
        if kind == "get":
            return self.field(expr[1])
        if kind == "ref":
            return f"ref_id({self.field(expr[1])})"
        if kind == "or":
            return "(" + " or ".join(self.expression(part) for part in expr[1:]) + ")"
        if kind == "money":  # `_money`: an int amount in the record's currency (read once, `currency`)
            # `minor_to_major` written out for a plain int in a currency of its table (the divisor read once per
            # record, `divisor`); any other amount or currency takes the call
            t = self.temp()
            converted = f"({t} if divisor == 1 else round({t} / divisor, digits))"
            return (
                f"(({converted} if divisor is not None and type({t}) is int else minor_to_major({t}, currency))"
                f" if isinstance({t} := {self.field(expr[1])}, int) else None)"
            )
        if kind == "sum":
            return f"_sum_money(record, {expr[1]!r})"
        if kind == "currency":
            return "code"
        if kind == "const":
            return self.constant(expr[1])
        if kind == "payment":  # `_payment`: the transaction, then the amount; none for a zero amount
            transaction, amount = self.temp(), self.temp()
            entry = (
                f"{{'transactionID': {transaction}, 'paymentAmount': {amount}, "
                "'paymentType': payment_type(record), 'currencyCode': code}"
            )
            money = self.expression(("money", expr[2]))
            return f"([{entry}] if (({transaction} := {self.expression(expr[1])}), ({amount} := {money}))[1] else [])"
        if kind == "refund":  # `_refund`: a zero amount is a refund entry too
            amount = self.temp()
            entry = f"{{'transactionID': get('id'), 'refundAmount': {amount}, 'currencyCode': code}}"
            return f"([{entry}] if ({amount} := {self.expression(('money', expr[1]))}) is not None else [])"
        if kind == "if":
            otherwise = self.expression(expr[3]) if len(expr) > 3 else "None"
            return f"({self.expression(expr[2])} if {self.condition(expr[1])} else {otherwise})"
        if kind == "or_none":
            return f"({self.expression(expr[1])} or None)"
        raise ValueError(f"unknown order expression {expr!r}")


def order_source(spec: OrderSpec) -> tuple[str, dict[str, Any]]:
    """The generated builder's source for `spec` (a function `build_order(record)`) and its constants."""
    writer = _Writer()
    lines = [*_RECORD_LINES, "order = {}\n"]
    for key, expr in spec:  # evaluated in the table's order, as the readable builder's keyword call does
        lines.append(f"v = {writer.expression(expr)}\n")
        kept = "v is not None" if expr[0] in _NEVER_A_LIST else "v is not None and v != []"
        lines.append(f"if {kept}:\n    order[{key!r}] = v\n")
    if any(key in _ORDER_MONEY for key, _ in spec):
        lines.append(
            "if 'currencyCode' not in order and not order.keys().isdisjoint(ORDER_MONEY):\n"
            "    return _order(record, **order)  # raises its error, naming the fields\n"
        )
    lines.append("return order or None\n")
    body = "".join("    " + line for line in "".join(lines).splitlines(True))
    return "def build_order(record):\n" + body, writer.names


# What both generated forms of an order (built; built and fitted) call, besides their spec's own names.
_GENERATED_ORDER_NAMES: dict[str, Any] = {
    "currency_code": currency_code,
    "minor_to_major": minor_to_major,
    "DIVISORS": _DIVISORS,
    "get_path": get_path,
    "ref_id": ref_id,
    "_sum_money": _sum_money,
    "payment_type": payment_type,
    "_order": _order,
}


def compiled_order_builder(stream_name: str) -> OrderBuilder | None:
    """The generated form of the stream's readable order builder, or None if its order is not a spec (a builder
    that stays a function: `commerce.ORDER_BUILDERS` then holds the one form)."""
    spec = ORDER_SPECS.get(stream_name)
    if spec is None:
        return None
    source, names = order_source(spec)
    namespace = {**_GENERATED_ORDER_NAMES, **names, "ORDER_MONEY": _ORDER_MONEY}
    return define(source, "build_order", namespace, f"<order of {stream_name}>")  # generated from `ORDER_SPECS` above


def _entry_keys(expr: Expr) -> tuple[str, ...] | None:
    """The key sequence of the entry, when `expr` is always None, [] or a list of one entry of that sequence."""
    if expr[0] in _ENTRY_KEYS:
        return _ENTRY_KEYS[expr[0]]
    if expr[0] == "if":
        branches = {_entry_keys(expr[2]), *((_entry_keys(expr[3]),) if len(expr) > 3 else ())}
        return branches.pop() if len(branches) == 1 else None
    return None


def fitted_order_source(spec: OrderSpec, node: SchemaNode, path: str) -> tuple[str, dict[str, Any]]:
    """The order of `spec` built and fitted to `node` (the order's object node, at `path`) in one generated function
    `fitted_order(record, repairs, on_drop)`: the same dict, reports and error as `keyed_fitter_for(node)` applied
    to `order_source`'s order, without building the order twice or the fitter's calls per nested object.

    Every field is computed first, in the table's order, as `order_source` does; then `_order`'s check (money
    without a currency code raises its error); then the note of a currency that is not ISO 4217 (the commerce
    block's, made before its fitting: reports keep their order); then each field present is placed where its own
    test shows it fits as it is (`fits_as_is_source`: a money amount is a number, an id a string, a timestamp a
    string already seen to fit) and fitted otherwise, a payment's or refund's entry by the straight-line fitter of
    its key sequence. Only for an order node without `required` or `primary` (`compiled_fitted_order` checks)."""
    writer = _Writer()
    lines = list(_RECORD_LINES)
    present = []  # per field: the test that it is kept in the order (`_order`: not None, not [])
    for index, (_key, expr) in enumerate(spec):
        lines.append(f"v{index} = {writer.expression(expr)}\n")
        present.append(f"v{index} is not None" + ("" if expr[0] in _NEVER_A_LIST else f" and v{index} != []"))
    money = [f"({present[i]})" for i, (key, _) in enumerate(spec) if key in _ORDER_MONEY]
    if money:
        has_code = " or ".join(f"({present[i]})" for i, (key, _) in enumerate(spec) if key == "currencyCode")
        arguments = ", ".join(f"{key}=v{index}" for index, (key, _) in enumerate(spec))
        lines.append(
            f"if not ({has_code or 'False'}) and ({' or '.join(money)}):\n"
            f"    return _order(record, {arguments})  # raises its error, naming the fields\n"
        )
    lines.append(f"if not ({' or '.join(f'({test})' for test in present)}):\n    return None\n")
    lines.append(
        "if currency and code is None:  # the commerce block's note (`events.commerce_of_type`), before its fitting\n"
        "    repairs.dropped('currency', 'commerce.order.currencyCode', 'not an ISO 4217 currency code')\n"
        "order = {}\n"
    )
    names: dict[str, Any] = {}
    for index, (key, expr) in enumerate(spec):
        var, key_path = f"v{index}", f"{path}.{key}"
        child = node.properties.get(key)
        lines.append(f"if {present[index]}:\n")
        if child is None:
            lines.append(f"    on_drop({key_path!r}, DROPPED, NO_PLACE)\n")
            continue
        entry_keys = _entry_keys(expr)
        if (
            entry_keys is not None
            and child.kind == "array"
            and child.values is not None
            and child.values.kind == "object"
        ):
            names[f"fit_entry_{index}"] = fitter_for_keys(child.values, entry_keys)
            lines.append(
                f"    e = fit_entry_{index}({var}[0], {key_path + '[]'!r}, on_drop)\n"
                f"    if e is not DROP:\n        order[{key!r}] = [e]\n"
            )
            continue
        names[f"fit_{index}"] = keyed_fitter_for(child)
        call = f"r = fit_{index}({var}, {key_path!r}, on_drop)\nif r is not DROP:\n    order[{key!r}] = r\n"
        fast, fast_names = fits_as_is_source(var, child, f"N{index}")
        if fast is None:
            lines.append(_indented(call, 4))
            continue
        names.update(fast_names)
        lines.append(f"    if {fast}:\n        order[{key!r}] = {var}\n    else:\n" + _indented(call, 8))
    lines.append("return order or None\n")
    body = "".join("    " + line for line in "".join(lines).splitlines(True))
    return "def fitted_order(record, repairs, on_drop):\n" + body, {**writer.names, **names}


def _indented(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in text.splitlines())


def compiled_fitted_order(stream_name: str, node: SchemaNode, path: str) -> FittedOrder | None:
    """The stream's order built and fitted to `node` in one generated function (`fitted_order_source`), or None
    where the order is not a spec (a builder that stays a function) or the node asks for more than the generated
    form checks (`required` or `primary` keys): the caller then builds the order and fits it apart."""
    spec = ORDER_SPECS.get(stream_name)
    if spec is None or node.kind != "object" or node.required or "primary" in node.properties:
        return None
    source, names = fitted_order_source(spec, node, path)
    namespace = {**_GENERATED_ORDER_NAMES, **names, "DROP": DROP, "DROPPED": DROPPED, "NO_PLACE": NO_PLACE}
    # generated from `ORDER_SPECS`
    fitted: FittedOrder = define(source, "fitted_order", namespace, f"<fitted order of {stream_name}>")
    fitted.source = source  # type: ignore[attr-defined]  # for a reader debugging a difference
    return fitted
