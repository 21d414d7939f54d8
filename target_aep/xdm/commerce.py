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


def charge_order(r: dict[str, Any]) -> dict[str, Any] | None:
    refunded = r.get("amount_refunded")
    return _order(
        r,
        purchaseID=ref_id(r.get("payment_intent")) or r.get("id"),
        priceTotal=_money(r, "amount"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        payments=_payment(r, r.get("id"), "amount_captured" if r.get("captured") else "amount"),
        refundTotal=_money(r, "amount_refunded") if isinstance(refunded, int) and refunded > 0 else None,
    )


def payment_intent_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=r.get("id"),
        priceTotal=_money(r, "amount"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=r.get("canceled_at"),
        payments=_payment(r, ref_id(r.get("latest_charge")) or r.get("id"), "amount_received"),
    )


def refund_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=ref_id(r.get("payment_intent")) or ref_id(r.get("charge")),
        currencyCode=currency_code(r.get("currency")),
        refunds=_refund(r, "amount"),
        refundTotal=_money(r, "amount"),
    )


def invoice_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=r.get("id"),
        purchaseOrderNumber=r.get("number"),
        priceTotal=_money(r, "total"),
        taxAmount=_sum_money(r, "total_taxes"),
        discountAmount=_sum_money(r, "total_discount_amounts"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=get_path(r, "status_transitions.voided_at"),
        payments=_payment(r, r.get("id"), "amount_paid"),
    )


def item_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """Invoice items and invoice lines: the invoice they belong to, and their own amount."""
    return _order(
        r,
        purchaseID=ref_id(r.get("invoice")),
        priceTotal=_money(r, "amount"),
        currencyCode=currency_code(r.get("currency")),
    )


def subscription_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=r.get("id"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=r.get("canceled_at"),
    )


def dispute_order(r: dict[str, Any]) -> dict[str, Any] | None:
    lost = r.get("status") == "lost"  # a lost dispute is money returned to the card holder
    return _order(
        r,
        purchaseID=ref_id(r.get("payment_intent")) or ref_id(r.get("charge")),
        currencyCode=currency_code(r.get("currency")),
        refunds=_refund(r, "amount") if lost else None,
        refundTotal=_money(r, "amount") if lost else None,
    )


def checkout_order(r: dict[str, Any]) -> dict[str, Any] | None:
    paid = r.get("payment_status") == "paid"
    return _order(
        r,
        purchaseID=ref_id(r.get("payment_intent")) or ref_id(r.get("invoice")) or r.get("id"),
        priceTotal=_money(r, "amount_total"),
        taxAmount=_money(r, "total_details.amount_tax"),
        discountAmount=_money(r, "total_details.amount_discount"),
        currencyCode=currency_code(r.get("currency")),
        orderType="checkout",
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        payments=_payment(r, ref_id(r.get("payment_intent")) or r.get("id"), "amount_total") if paid else None,
    )


def credit_note_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=ref_id(r.get("invoice")),
        purchaseOrderNumber=r.get("number"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        refunds=_refund(r, "total"),
        refundTotal=_money(r, "total"),
        cancelDate=r.get("voided_at"),
    )


def application_fee_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """The platform's cut of a connected account's charge: the charge is the purchase it was taken from."""
    refunded = r.get("amount_refunded")
    return _order(
        r,
        purchaseID=ref_id(r.get("charge")) or r.get("id"),
        priceTotal=_money(r, "amount"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        refundTotal=_money(r, "amount_refunded") if isinstance(refunded, int) and refunded > 0 else None,
    )


def _returned_order(parent_field: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Money given back on ``parent_field`` (an application fee refund, a transfer reversal)."""

    def build(r: dict[str, Any]) -> dict[str, Any] | None:
        return _order(
            r,
            purchaseID=ref_id(r.get(parent_field)),
            currencyCode=currency_code(r.get("currency")),
            createdDate=r.get("created"),
            refunds=_refund(r, "amount"),
            refundTotal=_money(r, "amount"),
        )

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


# --- issue 9: H8


def customer_balance_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """A customer balance transaction: money credited (negative) or owed (positive) on the customer's balance."""
    return _order(
        r,
        purchaseID=ref_id(r.get("invoice")) or ref_id(r.get("credit_note")) or r.get("id"),
        priceTotal=_money(r, "amount"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
    )


def quote_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=r.get("id"),
        purchaseOrderNumber=r.get("number"),
        priceTotal=_money(r, "amount_total"),
        taxAmount=_money(r, "total_details.amount_tax"),
        discountAmount=_money(r, "total_details.amount_discount"),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=get_path(r, "status_transitions.canceled_at"),
    )


def invoice_payment_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """An invoice payment: the invoice it pays, and the payment once it is paid."""
    transaction = ref_id(get_path(r, "payment.payment_intent")) or ref_id(get_path(r, "payment.charge"))
    return _order(
        r,
        purchaseID=ref_id(r.get("invoice")),
        currencyCode=currency_code(r.get("currency")),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=get_path(r, "status_transitions.canceled_at"),
        payments=_payment(r, transaction or r.get("id"), "amount_paid") if r.get("status") == "paid" else None,
    )


def credit_note_line_order(r: dict[str, Any]) -> dict[str, Any] | None:
    return _order(
        r,
        purchaseID=ref_id(r.get("credit_note")),
        currencyCode=currency_code(r.get("currency")),
        refunds=_refund({**r, "id": r.get("id")}, "amount"),
        refundTotal=_money(r, "amount"),
    )


def schedule_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """A subscription schedule: no money of its own; the subscription it drives and its lifecycle dates."""
    return _order(
        r,
        purchaseID=ref_id(r.get("subscription")) or ref_id(r.get("released_subscription")) or r.get("id"),
        createdDate=r.get("created"),
        lastUpdatedDate=r.get("updated"),
        cancelDate=r.get("canceled_at"),
    )


# --- issue 9: H9 ------------------------------------------------------------------------------------------------


def checkout_line_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """A checkout session's line: the session it belongs to, and its own total."""
    return _order(
        r,
        purchaseID=ref_id(r.get("checkout_session")),
        priceTotal=_money(r, "amount_total"),
        taxAmount=_money(r, "amount_tax") or None,
        discountAmount=_money(r, "amount_discount") or None,
        currencyCode=currency_code(r.get("currency")),
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


def issuing_dispute_order(r: dict[str, Any]) -> dict[str, Any] | None:
    """A card payment the business disputes; money comes back only when it is won."""
    won = r.get("status") == "won"
    return _order(
        r,
        purchaseID=ref_id(r.get("transaction")),
        currencyCode=currency_code(r.get("currency")),
        refunds=_refund(r, "amount") if won else None,
        refundTotal=_money(r, "amount") if won else None,
    )


ORDER_BUILDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "charges": charge_order,
    "payment_intents": payment_intent_order,
    "refunds": refund_order,
    "invoices": invoice_order,
    "invoice_items": item_order,
    "invoice_line_items": item_order,
    "subscriptions": subscription_order,
    "disputes": dispute_order,
    "checkout_sessions": checkout_order,
    "credit_notes": credit_note_order,
    # --- issue 9: H7
    "application_fees": application_fee_order,
    "application_fee_refunds": _returned_order("fee"),
    "transfer_reversals": _returned_order("transfer"),
    "top_ups": top_up_order,
    # --- issue 9: H8
    "customer_balance_transactions": customer_balance_order,
    "quotes": quote_order,
    "invoice_payments": invoice_payment_order,
    "credit_note_line_items": credit_note_line_order,
    "subscription_schedules": schedule_order,
    # --- issue 9: H9
    "checkout_session_line_items": checkout_line_order,
    "issuing_authorizations": issuing_authorization_order,
    "issuing_transactions": issuing_transaction_order,
    "issuing_disputes": issuing_dispute_order,
}


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
