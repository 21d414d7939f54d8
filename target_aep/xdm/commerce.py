"""`commerce.order` and `productListItems` for Stripe money movements, amounts in major units."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from target_aep.xdm.currency import AmountWithoutCurrencyError, currency_code, is_iso_4217, minor_to_major
from target_aep.xdm.repairs import TRUNCATED, RepairLog
from target_aep.xdm.stripe_fields import get_path, ref_id, truncate

MAX_PRODUCT_LIST_ITEMS = 50  # an invoice can have hundreds of lines; events should stay near 10 KB

_FUNDING_PAYMENT_TYPES = {"credit": "credit_card", "debit": "debit_card", "prepaid": "gift_card"}
_METHOD_PAYMENT_TYPES = {
    "paypal": "paypal",
    "ach_credit_transfer": "wire_transfer",
    "bank_transfer": "wire_transfer",
    "customer_balance": "wire_transfer",
    "us_bank_account": "wire_transfer",
}


def payment_type(record: dict[str, Any]) -> str:
    """XDM `paymentType` (`credit_card`, `debit_card`, `paypal`, ...) from a charge's payment method."""
    details = record.get("payment_method_details")
    method = details.get("type") if isinstance(details, dict) else None
    if method is None:
        types = record.get("payment_method_types")
        method = types[0] if isinstance(types, list) and types else None
    if method == "card":
        card = details.get("card") if isinstance(details, dict) else None  # `card.funding`, read directly
        funding = card.get("funding") if isinstance(card, dict) else None
        return _FUNDING_PAYMENT_TYPES.get(funding, "credit_card") if isinstance(funding, str) else "credit_card"
    return _METHOD_PAYMENT_TYPES.get(method, "other") if isinstance(method, str) else "other"


def _money(record: dict[str, Any], field_name: str) -> float | int | None:
    value = record.get(field_name) if "." not in field_name else get_path(record, field_name)
    return minor_to_major(value, record.get("currency")) if isinstance(value, int) else None


def _sum_money(record: dict[str, Any], list_field: str) -> float | int | None:
    entries = record.get(list_field)
    if not isinstance(entries, list):
        return None
    total = sum(e.get("amount", 0) for e in entries if isinstance(e, dict) and isinstance(e.get("amount"), int))
    return minor_to_major(total, record.get("currency")) if total else None


# The order fields that hold money: each needs the order's `currencyCode`.
_ORDER_MONEY = ("priceTotal", "taxAmount", "discountAmount", "refundTotal", "payments", "refunds")


def _order(record: dict[str, Any], **fields: Any) -> dict[str, Any] | None:
    order = {key: value for key, value in fields.items() if value is not None and value != []}
    if "currencyCode" not in order and not order.keys().isdisjoint(_ORDER_MONEY):
        # `unconvertible_amount` dead-letters the usual cases before mapping (an `amount` field); this catches an
        # amount it does not look at (a checkout session's `total_details` without `amount_total`): money never
        # lands without its currency, whatever field it came from.
        held = ", ".join(key for key in _ORDER_MONEY if key in order)
        raise AmountWithoutCurrencyError(
            f"{held} without a valid ISO 4217 currency (currency: {record.get('currency')!r})"
        )
    return order or None


def _payment(record: dict[str, Any], transaction: Any, amount_field: str) -> list[dict[str, Any]]:
    amount = _money(record, amount_field)
    if amount is None or not amount:
        return []
    return [
        {
            "transactionID": transaction,
            "paymentAmount": amount,
            "paymentType": payment_type(record),
            "currencyCode": currency_code(record.get("currency")),
        }
    ]


def _refund(record: dict[str, Any], amount_field: str) -> list[dict[str, Any]]:
    amount = _money(record, amount_field)
    if amount is None:
        return []
    code = currency_code(record.get("currency"))
    return [{"transactionID": record.get("id"), "refundAmount": amount, "currencyCode": code}]


# The orders, as data: for each stream, the order's fields in order, each an expression on the record (below).
# `order_from_spec` is the readable builder, the definition; `order_compiled.compiled_order_builder` generates
# straight-line code from the same table for the compiled mapping (tests/target/test_compiled_mapping.py compares
# the two byte for byte). A builder that does not fit these few forms stays a function (`top_up_order`, Issuing).
#
# Expressions (tuples): ("get", field) the field (a dotted path reads nested objects: `get_path`); ("ref", field)
# the id of an expandable reference there (`ref_id`); ("or", e, ...) the first truthy value, else the last one;
# ("money", field) an amount in major units of the record's currency (`_money`); ("sum", list_field) the sum of
# its entries' amounts (`_sum_money`); ("currency",) the record's ISO 4217 code; ("const", value);
# ("payment", transaction, amount_field) and ("refund", amount_field): a one-entry list or [] (`_payment`,
# `_refund`); ("if", condition, then[, else]) with conditions ("eq", field, value), ("positive", field) (an int
# above 0) and ("truthy", field); ("or_none", e): e, or None where e is falsy (a zero amount).
Expr = tuple[Any, ...]
OrderSpec = tuple[tuple[str, Expr], ...]

_ID: Expr = ("get", "id")
_CURRENCY: Expr = ("currency",)
_CREATED = ("createdDate", ("get", "created"))
_UPDATED = ("lastUpdatedDate", ("get", "updated"))


def _returned_spec(parent_field: str) -> OrderSpec:
    """Money given back on ``parent_field`` (an application fee refund, a transfer reversal)."""
    return (
        ("purchaseID", ("ref", parent_field)),
        ("currencyCode", _CURRENCY),
        _CREATED,
        ("refunds", ("refund", "amount")),
        ("refundTotal", ("money", "amount")),
    )


ORDER_SPECS: dict[str, OrderSpec] = {
    "charges": (
        ("purchaseID", ("or", ("ref", "payment_intent"), _ID)),
        ("priceTotal", ("money", "amount")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("payments", ("if", ("truthy", "captured"), ("payment", _ID, "amount_captured"), ("payment", _ID, "amount"))),
        ("refundTotal", ("if", ("positive", "amount_refunded"), ("money", "amount_refunded"))),
    ),
    "payment_intents": (
        ("purchaseID", _ID),
        ("priceTotal", ("money", "amount")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "canceled_at")),
        ("payments", ("payment", ("or", ("ref", "latest_charge"), _ID), "amount_received")),
    ),
    "refunds": (
        ("purchaseID", ("or", ("ref", "payment_intent"), ("ref", "charge"))),
        ("currencyCode", _CURRENCY),
        ("refunds", ("refund", "amount")),
        ("refundTotal", ("money", "amount")),
    ),
    "invoices": (
        ("purchaseID", _ID),
        ("purchaseOrderNumber", ("get", "number")),
        ("priceTotal", ("money", "total")),
        ("taxAmount", ("sum", "total_taxes")),
        ("discountAmount", ("sum", "total_discount_amounts")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "status_transitions.voided_at")),
        ("payments", ("payment", _ID, "amount_paid")),
    ),
    # Invoice items and invoice lines: the invoice they belong to, and their own amount.
    "invoice_items": (
        ("purchaseID", ("ref", "invoice")),
        ("priceTotal", ("money", "amount")),
        ("currencyCode", _CURRENCY),
    ),
    "subscriptions": (
        ("purchaseID", _ID),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "canceled_at")),
    ),
    # A lost dispute is money returned to the card holder.
    "disputes": (
        ("purchaseID", ("or", ("ref", "payment_intent"), ("ref", "charge"))),
        ("currencyCode", _CURRENCY),
        ("refunds", ("if", ("eq", "status", "lost"), ("refund", "amount"))),
        ("refundTotal", ("if", ("eq", "status", "lost"), ("money", "amount"))),
    ),
    "checkout_sessions": (
        ("purchaseID", ("or", ("ref", "payment_intent"), ("ref", "invoice"), _ID)),
        ("priceTotal", ("money", "amount_total")),
        ("taxAmount", ("money", "total_details.amount_tax")),
        ("discountAmount", ("money", "total_details.amount_discount")),
        ("currencyCode", _CURRENCY),
        ("orderType", ("const", "checkout")),
        _CREATED,
        _UPDATED,
        (
            "payments",
            (
                "if",
                ("eq", "payment_status", "paid"),
                ("payment", ("or", ("ref", "payment_intent"), _ID), "amount_total"),
            ),
        ),
    ),
    "credit_notes": (
        ("purchaseID", ("ref", "invoice")),
        ("purchaseOrderNumber", ("get", "number")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        ("refunds", ("refund", "total")),
        ("refundTotal", ("money", "total")),
        ("cancelDate", ("get", "voided_at")),
    ),
    # --- issue 9: H7
    # The platform's cut of a connected account's charge: the charge is the purchase it was taken from.
    "application_fees": (
        ("purchaseID", ("or", ("ref", "charge"), _ID)),
        ("priceTotal", ("money", "amount")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("refundTotal", ("if", ("positive", "amount_refunded"), ("money", "amount_refunded"))),
    ),
    "application_fee_refunds": _returned_spec("fee"),
    "transfer_reversals": _returned_spec("transfer"),
    # --- issue 9: H8
    # A customer balance transaction: money credited (negative) or owed (positive) on the customer's balance.
    "customer_balance_transactions": (
        ("purchaseID", ("or", ("ref", "invoice"), ("ref", "credit_note"), _ID)),
        ("priceTotal", ("money", "amount")),
        ("currencyCode", _CURRENCY),
        _CREATED,
    ),
    "quotes": (
        ("purchaseID", _ID),
        ("purchaseOrderNumber", ("get", "number")),
        ("priceTotal", ("money", "amount_total")),
        ("taxAmount", ("money", "total_details.amount_tax")),
        ("discountAmount", ("money", "total_details.amount_discount")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "status_transitions.canceled_at")),
    ),
    # An invoice payment: the invoice it pays, and the payment once it is paid.
    "invoice_payments": (
        ("purchaseID", ("ref", "invoice")),
        ("currencyCode", _CURRENCY),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "status_transitions.canceled_at")),
        (
            "payments",
            (
                "if",
                ("eq", "status", "paid"),
                ("payment", ("or", ("ref", "payment.payment_intent"), ("ref", "payment.charge"), _ID), "amount_paid"),
            ),
        ),
    ),
    "credit_note_line_items": (
        ("purchaseID", ("ref", "credit_note")),
        ("currencyCode", _CURRENCY),
        ("refunds", ("refund", "amount")),
        ("refundTotal", ("money", "amount")),
    ),
    # A subscription schedule: no money of its own; the subscription it drives and its lifecycle dates.
    "subscription_schedules": (
        ("purchaseID", ("or", ("ref", "subscription"), ("ref", "released_subscription"), _ID)),
        _CREATED,
        _UPDATED,
        ("cancelDate", ("get", "canceled_at")),
    ),
    # --- issue 9: H9
    # A checkout session's line: the session it belongs to, and its own total.
    "checkout_session_line_items": (
        ("purchaseID", ("ref", "checkout_session")),
        ("priceTotal", ("money", "amount_total")),
        ("taxAmount", ("or_none", ("money", "amount_tax"))),
        ("discountAmount", ("or_none", ("money", "amount_discount"))),
        ("currencyCode", _CURRENCY),
    ),
    # A card payment the business disputes; money comes back only when it is won.
    "issuing_disputes": (
        ("purchaseID", ("ref", "transaction")),
        ("currencyCode", _CURRENCY),
        ("refunds", ("if", ("eq", "status", "won"), ("refund", "amount"))),
        ("refundTotal", ("if", ("eq", "status", "won"), ("money", "amount"))),
    ),
}
ORDER_SPECS["invoice_line_items"] = ORDER_SPECS["invoice_items"]


def _field(r: dict[str, Any], name: str) -> Any:
    return r.get(name) if "." not in name else get_path(r, name)


def _holds(r: dict[str, Any], condition: Expr) -> bool:
    kind, name = condition[0], condition[1]
    value = _field(r, name)
    if kind == "eq":
        return bool(value == condition[2])
    if kind == "positive":
        return isinstance(value, int) and value > 0
    return bool(value)  # "truthy"


def order_value(r: dict[str, Any], expr: Expr) -> Any:
    """The value of one order field's expression (`ORDER_SPECS`) on the record `r`: the definition."""
    kind = expr[0]
    if kind == "get":
        return _field(r, expr[1])
    if kind == "ref":
        return ref_id(_field(r, expr[1]))
    if kind == "or":
        value = None
        for part in expr[1:]:
            value = order_value(r, part)
            if value:
                return value
        return value
    if kind == "money":
        return _money(r, expr[1])
    if kind == "sum":
        return _sum_money(r, expr[1])
    if kind == "currency":
        return currency_code(r.get("currency"))
    if kind == "const":
        return expr[1]
    if kind == "payment":
        return _payment(r, order_value(r, expr[1]), expr[2])
    if kind == "refund":
        return _refund(r, expr[1])
    if kind == "if":
        if _holds(r, expr[1]):
            return order_value(r, expr[2])
        return order_value(r, expr[3]) if len(expr) > 3 else None
    if kind == "or_none":
        return order_value(r, expr[1]) or None
    raise ValueError(f"unknown order expression {expr!r}")


def order_from_spec(spec: OrderSpec) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """The readable order builder of a stream's `ORDER_SPECS` entry."""

    def build(r: dict[str, Any]) -> dict[str, Any] | None:
        return _order(r, **{key: order_value(r, expr) for key, expr in spec})

    return build


def top_up_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """Money added to the Stripe balance from a bank account: paid by wire once it succeeded."""
    amount = _money(r, "amount")
    succeeded = r.get("status") == "succeeded" and amount
    payment = {"transactionID": r.get("id"), "paymentAmount": amount, "paymentType": "wire_transfer",
               "currencyCode": currency_code(r.get("currency"))}  # fmt: skip
    return _order(
        r,
        purchaseID=r.get("id"),
        priceTotal=amount,
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        payments=[payment] if succeeded else None,
    )


def _card_spend(r: dict[str, Any], amount: Any, currency: Any, transaction: Any) -> list[dict[str, Any]]:
    """An Issuing card payment: the business's own card spending its Issuing balance (hence `debit_card`)."""
    value = minor_to_major(abs(amount), currency) if isinstance(amount, int) and amount else None
    if not value:
        return []
    return [
        {
            "transactionID": transaction,
            "paymentAmount": value,
            "paymentType": "debit_card",
            "currencyCode": currency_code(currency),
        }
    ]


def issuing_authorization_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """What the merchant asked for, in the merchant's currency (``amount`` is 0 once captured)."""
    amount, currency = r.get("merchant_amount"), r.get("merchant_currency")
    return _order(
        r,
        purchaseID=r.get("id"),
        priceTotal=minor_to_major(amount, currency) if isinstance(amount, int) else None,
        currencyCode=currency_code(currency),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        payments=_card_spend(r, amount, currency, r.get("id")) if r.get("approved") else None,
    )


def issuing_transaction_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """A capture spends (Stripe: a negative amount); a refund returns money to the card."""
    amount, currency = r.get("amount"), r.get("currency")
    refund = r.get("type") == "refund"
    total = minor_to_major(abs(amount), currency) if isinstance(amount, int) else None
    return _order(
        r,
        purchaseID=ref_id(r.get("authorization")) or r.get("id"),
        priceTotal=None if refund else total,
        currencyCode=currency_code(currency),
        createdDate=r.get("created"),
        payments=None if refund else _card_spend(r, amount, currency, r.get("id")),
        refunds=[{"transactionID": r.get("id"), "refundAmount": total, "currencyCode": currency_code(currency)}]
        if refund and total is not None
        else None,
        refundTotal=total if refund else None,
    )


ORDER_BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    stream: order_from_spec(spec) for stream, spec in ORDER_SPECS.items()
}
ORDER_BUILDERS.update(
    {
        "top_ups": top_up_order,
        "issuing_authorizations": issuing_authorization_order,
        "issuing_transactions": issuing_transaction_order,
    }
)


def line_money(line: dict[str, Any], currency: Any) -> tuple[Any, Any, str]:
    """A line's amount in minor units, its currency, and the line's field that gave the currency.

    The currency is the line's own, else its price's, else ``currency`` (the parent record's, field ``""``).
    """
    price = line.get("price")
    price = price if isinstance(price, dict) else None
    quantity = line.get("quantity")
    amount = line.get("amount", line.get("amount_total"))  # a checkout line item has `amount_total`
    if amount is None and price is not None and isinstance(price.get("unit_amount"), int):
        amount = price["unit_amount"] * (quantity if isinstance(quantity, int) else 1)
    if line.get("currency"):
        return amount, line["currency"], "currency"
    if price is not None and price.get("currency"):
        return amount, price["currency"], "price.currency"
    return amount, currency, ""


def product_item(
    line: dict[str, Any], currency: Any, repairs: RepairLog | None = None, source: str = "lines"
) -> dict[str, Any] | None:
    """One invoice line, invoice item or subscription item -> an XDM product list item.

    SKU is the price id (what was sold), else the product id, else the line's own id.
    """
    price = line.get("price")
    details = line.get("pricing")  # `pricing.price_details`, read once for its price and its product
    details = details.get("price_details") if isinstance(details, dict) else None
    details = details if isinstance(details, dict) else {}
    price_id = ref_id(price) or ref_id(details.get("price")) or ref_id(line.get("plan"))
    product_id = ref_id(details.get("product")) or ref_id(price.get("product") if isinstance(price, dict) else None)
    sku = price_id or product_id or line.get("id")
    if not sku:
        return None
    amount, currency, _ = line_money(line, currency)
    quantity = line.get("quantity")
    name = line.get("description") or (price.get("nickname") if isinstance(price, dict) else None)
    if repairs is not None and isinstance(name, str) and len(name) > 256:
        field = f"{source}[].{'description' if line.get('description') else 'price.nickname'}"
        repairs.altered(field, "productListItems[].name", TRUNCATED, "over-long text cut to 256 characters")
    item = {
        "SKU": sku,
        "name": truncate(name, 256),
        "quantity": quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
        "priceTotal": minor_to_major(amount, currency) if isinstance(amount, int) else None,
        "currencyCode": currency_code(currency),
    }
    return {key: value for key, value in item.items() if value is not None}


def _list_data(value: Any) -> list[Any]:
    """A Stripe list (`{"object": "list", "data": [...]}`) or a plain array, as a list."""
    if isinstance(value, dict):
        value = value.get("data")
    return value if isinstance(value, list) else []


# Streams whose object lists its lines (the list field), and streams whose every object is one line.
_LINE_LISTS = {"invoices": "lines", "subscriptions": "items"}
_ONE_LINE_STREAMS = frozenset(
    {"invoice_items", "invoice_line_items", "subscription_items", "checkout_session_line_items"}
)
_PRODUCT_LIST_STREAMS = _ONE_LINE_STREAMS.union(_LINE_LISTS)


def has_product_list(stream_name: str) -> bool:
    """Whether `product_list_items` may give anything for records of `stream_name` (None for every other)."""
    return stream_name in _PRODUCT_LIST_STREAMS


def product_list_items(stream_name: str, record: dict[str, Any], repairs: RepairLog) -> list[dict[str, Any]] | None:
    """`productListItems` for objects that have lines; over `MAX_PRODUCT_LIST_ITEMS` the rest is reported."""
    if stream_name in _LINE_LISTS:
        source = _LINE_LISTS[stream_name]
        lines = _list_data(record.get(source))
    elif stream_name in _ONE_LINE_STREAMS:
        if record.get("is_deleted") and not (record.get("price") or record.get("pricing")):
            return None  # a deletion stub (`{"id", "deleted": true}`) names no product
        lines, source = [record], "price"
    else:
        return None
    if len(lines) > MAX_PRODUCT_LIST_ITEMS:
        repairs.dropped(
            f"{source}[{MAX_PRODUCT_LIST_ITEMS}:]",
            f"productListItems[{MAX_PRODUCT_LIST_ITEMS}:]",
            f"more than {MAX_PRODUCT_LIST_ITEMS} product list items (the event size guardrail)",
        )
        lines = lines[:MAX_PRODUCT_LIST_ITEMS]
    items = [product_item(line, record.get("currency"), repairs, source) for line in lines if isinstance(line, dict)]
    return [item for item in items if item] or None


# Stripe fields holding an amount in minor units of the record's own `currency`: the mapping converts them
# (`commerce.order`) or lands them as `_{tenant}.stripe.amount`. Every money total of `stripe_fields._AMOUNT_FIELDS`
# must be here (a test checks it). A customer's `balance` is not: the mapping lands no amount for a customer.
MONEY_FIELDS = (
    "amount",
    "amount_captured",
    "amount_refunded",
    "amount_received",
    "amount_paid",
    "amount_total",
    "total",
    "unit_amount",
    "amount_off",
)
# Money held in a sub-object with its own currency (a shipping rate's `fixed_amount` {amount, currency}).
NESTED_MONEY_FIELDS = ("fixed_amount",)


_NUMBER_TYPES = (int, float)  # bool is not an amount: `type(True)` is `bool`
_LINE_STREAMS = frozenset({"invoices", "subscriptions"})
_ITEM_STREAMS = frozenset({"invoice_items", "invoice_line_items", "subscription_items"})


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _currency_problem(field: str, currency: Any, amount: Any, of: str = "") -> str | None:
    if is_iso_4217(currency):
        return None
    amount_text = f"the amount {amount}{f' of {of}' if of else ''} cannot be converted"
    if currency is None or currency == "":
        return f"{field} is missing: {amount_text}"
    return f"{field} {currency!r} is not an ISO 4217 code: {amount_text}"


def _line_sources(stream_name: str, record: dict[str, Any]) -> tuple[str, list[Any]]:
    """The record's lines as ``product_list_items`` reads them, and their path in the record."""
    if stream_name == "invoices":
        field = "lines"
    elif stream_name == "subscriptions":
        field = "items"
    else:
        return "", []
    value = record.get(field)
    if isinstance(value, dict):
        return f"{field}.data", _list_data(value)
    return field, _list_data(value)


def unconvertible_amount(stream_name: str, record: dict[str, Any]) -> str | None:
    """Why the record's money cannot land, or None: an amount whose currency is missing or not ISO 4217.

    The record's own amounts need its ``currency``; each line's (invoice lines, subscription items, an item's price)
    needs the line's currency, its price's, or else the record's. The reason names the field and the value:
    ``currency 'usdollars' is not an ISO 4217 code: the amount 1500 cannot be converted``.
    """
    currency = record.get("currency")
    get = record.get
    # The record's own amounts need only its currency: a valid one (most records) passes them all unread.
    if not is_iso_4217(currency):
        for field in MONEY_FIELDS:
            amount = get(field)
            if amount is not None and type(amount) in _NUMBER_TYPES:  # runs for every record: no call per field
                problem = _currency_problem("currency", currency, amount)
                if problem is not None:
                    return problem
                break  # one amount is enough: the record's currency is valid for all of them
    for field in NESTED_MONEY_FIELDS:
        nested = get(field)
        if type(nested) is dict and _is_amount(nested.get("amount")):
            problem = _currency_problem(f"{field}.currency", nested.get("currency"), nested["amount"], field)
            if problem is not None:
                return problem
    if stream_name in _LINE_STREAMS:
        lines_path, lines = _line_sources(stream_name, record)
    elif stream_name in _ITEM_STREAMS:
        lines_path, lines = "", [record]
    else:
        return None
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            continue
        amount, line_currency, field = line_money(line, currency)
        if not _is_amount(amount):
            continue
        where = f"{lines_path}[{index}]" if lines_path else ""
        if field and where:
            name, of = f"{where}.{field}", where
        elif field:
            name, of = field, ""
        else:
            name, of = "currency", where
        problem = _currency_problem(name, line_currency, amount, of)
        if problem is not None:
            return problem
    return None
