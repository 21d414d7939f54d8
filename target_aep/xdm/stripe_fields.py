"""Reading Stripe records (tap conventions) and building the tenant block `_{tenant}.stripe`.

Records carry Stripe's own field names, RFC 3339 timestamps, `updated`, `is_deleted` and `account_id`.
References are ids; a few fields that Stripe always embeds (a subscription item's `price`) are objects,
so `ref_id` accepts both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Stream name -> Stripe `object` value, for records that lack `object` (deleted stubs, hand-made input).
STREAM_OBJECT_TYPES: dict[str, str] = {
    "customers": "customer",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "refunds": "refund",
    "invoices": "invoice",
    "invoice_items": "invoiceitem",
    "invoice_line_items": "line_item",
    "subscriptions": "subscription",
    "subscription_items": "subscription_item",
    "products": "product",
    "prices": "price",
    "plans": "plan",
    "coupons": "coupon",
    "promotion_codes": "promotion_code",
    "balance_transactions": "balance_transaction",
    "payouts": "payout",
    "disputes": "dispute",
    "checkout_sessions": "checkout.session",
    "credit_notes": "credit_note",
    "setup_intents": "setup_intent",
    "transfers": "transfer",
    "events": "event",
    # --- issue 9: H7
    "accounts": "account",
    "persons": "person",
    "external_accounts": "bank_account",
    "application_fees": "application_fee",
    "application_fee_refunds": "fee_refund",
    "transfer_reversals": "transfer_reversal",
    "top_ups": "topup",
    "payout_balance_transactions": "balance_transaction",
    # --- issue 9: H8
    "customer_balance_transactions": "customer_balance_transaction",
    "payment_methods": "payment_method",
    "tax_ids": "tax_id",
    "tax_rates": "tax_rate",
    "subscription_schedules": "subscription_schedule",
    "quotes": "quote",
    "invoice_payments": "invoice_payment",
    "credit_note_line_items": "credit_note_line_item",
    "billing_meters": "billing.meter",
    # --- issue 9: H9
    "checkout_session_line_items": "item",
    "payment_links": "payment_link",
    "shipping_rates": "shipping_rate",
    "setup_attempts": "setup_attempt",
    "files": "file",
    "file_links": "file_link",
    "early_fraud_warnings": "radar.early_fraud_warning",
    "reviews": "review",
    "issuing_authorizations": "issuing.authorization",
    "issuing_cardholders": "issuing.cardholder",
    "issuing_cards": "issuing.card",
    "issuing_disputes": "issuing.dispute",
    "issuing_transactions": "issuing.transaction",
}

DESCRIPTION_LIMIT = 1000  # characters; keeps events near the 10 KB guardrail (see docs/xdm-mapping.md)


@dataclass(frozen=True)
class TenantField:
    """One field of `_{tenant}.stripe`, the customer's "Stripe Object Details" field group.

    `xdm_type` is the XDM type of the field (`string`, `boolean`, `date-time`, `long`, `map` of strings);
    `source` is the Stripe field it usually comes from (what `unplaced_fields()` reports when the customer's
    field group lacks the tenant field); `title` and `description` are shown in the AEP schema editor.
    """

    name: str
    xdm_type: str
    source: str
    title: str
    description: str


# Every field `stripe_details` fills, in the order AEP shows them. This table is the one description of the
# tenant block: `target-aep-setup` generates the field group from it (target_aep/setup/field_group.py), and a
# test checks that `stripe_details` fills exactly these names with values of these types, so the field group
# and the mapping cannot drift apart.
TENANT_FIELDS: tuple[TenantField, ...] = (
    TenantField(
        "objectType", "string", "object", "Object type",
        "Stripe object type: the value of the object's `object` attribute, "
        "for example `customer`, `charge`, `product`, `price`.",
    ),
    TenantField(
        "id", "string", "id", "Stripe ID",
        "Unique identifier of the object in Stripe, for example `cus_...`, `ch_...`, `prod_...`.",
    ),
    TenantField(
        "name", "string", "name", "Name",
        "Display name of the object where it has one, for example a product's or a coupon's `name`.",
    ),
    TenantField(
        "livemode", "boolean", "livemode", "Live mode",
        "`true` if the object exists in live mode, `false` if in test mode.",
    ),
    TenantField("account", "string", "account_id", "Account", "Stripe account the object was read from (`acct_...`)."),
    TenantField(
        "status", "string", "status", "Status",
        "Stripe status of the object, where the object has one, "
        "for example `succeeded` for a charge or `active` for a subscription.",
    ),
    TenantField("created", "date-time", "created", "Created", "Time at which the object was created in Stripe."),
    TenantField(
        "updated", "date-time", "updated", "Updated", "Time of the latest change to the object seen by the source."
    ),
    TenantField("deleted", "boolean", "is_deleted", "Deleted", "`true` when the object has been deleted in Stripe."),
    TenantField(
        "metadata", "map", "metadata", "Metadata", "Stripe metadata: the key-value pairs attached to the object."
    ),
    TenantField(
        "amount", "long", "amount", "Amount",
        "Amount in the currency's smallest unit (for example cents), as Stripe reports it.",
    ),
    TenantField(
        "amountRefunded", "long", "amount_refunded", "Amount refunded",
        "Amount refunded, in the currency's smallest unit.",
    ),
    TenantField(
        "currency", "string", "currency", "Currency",
        "Three-letter ISO 4217 currency code, in lowercase as Stripe reports it.",
    ),
    TenantField(
        "customerId", "string", "customer", "Customer ID",
        "ID of the Stripe customer the object belongs to (`cus_...`).",
    ),
    TenantField("description", "string", "description", "Description", "Description of the object in Stripe."),
    TenantField("invoiceId", "string", "invoice", "Invoice ID", "ID of the related Stripe invoice (`in_...`)."),
    TenantField(
        "subscriptionId", "string", "subscription", "Subscription ID",
        "ID of the related Stripe subscription (`sub_...`).",
    ),
    TenantField(
        "paymentIntentId", "string", "payment_intent", "PaymentIntent ID",
        "ID of the related Stripe PaymentIntent (`pi_...`).",
    ),
    TenantField("productId", "string", "product", "Product ID", "ID of the related Stripe product (`prod_...`)."),
    TenantField("priceId", "string", "price", "Price ID", "ID of the related Stripe price (`price_...`)."),
)  # fmt: skip

# Tenant field -> the Stripe field it usually comes from.
TENANT_SOURCES: dict[str, str] = {field.name: field.source for field in TENANT_FIELDS}

# Where each object keeps its money total, when it is not `amount`.
_AMOUNT_FIELDS: dict[str, str] = {
    "invoice": "total",
    "credit_note": "total",
    "checkout.session": "amount_total",
    "price": "unit_amount",
    "coupon": "amount_off",
    # --- issue 9: H8
    "quote": "amount_total",
    "invoice_payment": "amount_paid",
    # --- issue 9: H9
    "item": "amount_total",
    "shipping_rate": "fixed_amount.amount",
}
# Where each object keeps the currency of that total, when it is not `currency`: an amount is only ever
# written together with its currency.
_CURRENCY_FIELDS: dict[str, str] = {
    # --- issue 9: H9
    "shipping_rate": "fixed_amount.currency",
}


def get_path(record: dict[str, Any], path: str) -> Any:
    """Value at a dotted Stripe path (`billing_details.address.city`), or None; digits index lists."""
    if type(record) is dict and "." not in path:  # most calls name a top-level field: one look-up
        return record.get(path)
    value: Any = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def ref_id(value: Any) -> str | None:
    """An expandable reference as its id: `"cus_1"` or `{"id": "cus_1", ...}` -> `"cus_1"`."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def object_type(record: dict[str, Any], stream_name: str) -> str:
    found = record.get("object")
    if isinstance(found, str) and found:
        return found
    return STREAM_OBJECT_TYPES.get(stream_name, stream_name.rstrip("s"))


def truncate(text: Any, limit: int = DESCRIPTION_LIMIT) -> str | None:
    """Cut free text to `limit` characters, marking the cut with an ellipsis."""
    if not isinstance(text, str) or not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def customer_id(record: dict[str, Any], obj_type: str) -> str | None:
    """The Stripe customer a record belongs to (a customer is its own)."""
    if obj_type == "customer":
        return ref_id(record.get("id"))
    found = ref_id(record.get("customer"))
    if found:
        return found
    if obj_type == "event":
        inner = get_path(record, "data.object")
        if isinstance(inner, dict):
            return customer_id(inner, str(inner.get("object", "")))
    return None


def _status(record: dict[str, Any], obj_type: str) -> str | None:
    status = record.get("status")
    if isinstance(status, str):
        return status
    if "active" in record and isinstance(record["active"], bool):  # products, prices, plans, promo codes
        return "active" if record["active"] else "inactive"
    if "valid" in record and isinstance(record["valid"], bool):  # coupons
        return "valid" if record["valid"] else "invalid"
    if obj_type == "event":
        return None
    return None


def _name(record: dict[str, Any], obj_type: str) -> Any:
    if obj_type == "event":
        return record.get("type")
    if obj_type == "promotion_code":
        return record.get("code")
    if obj_type == "account":
        return get_path(record, "business_profile.name") or get_path(record, "settings.dashboard.display_name")
    if obj_type == "person":
        return " ".join(part for part in (record.get("first_name"), record.get("last_name")) if part) or None
    if obj_type in ("bank_account", "card"):
        return record.get("bank_name") or record.get("brand")
    return record.get("name") or record.get("nickname")


def _price_id(record: dict[str, Any], obj_type: str) -> str | None:
    if obj_type == "product":
        return ref_id(record.get("default_price"))
    found = ref_id(record.get("price")) or ref_id(get_path(record, "pricing.price_details.price"))
    if found:
        return found
    return ref_id(record.get("plan")) if obj_type == "subscription_item" else None


def _product_id(record: dict[str, Any]) -> str | None:
    return (
        ref_id(record.get("product"))
        or ref_id(get_path(record, "pricing.price_details.product"))
        or ref_id(get_path(record, "price.product"))
    )


def _subscription_id(record: dict[str, Any]) -> str | None:
    return (
        ref_id(record.get("subscription"))
        or ref_id(get_path(record, "parent.subscription_details.subscription"))
        or ref_id(get_path(record, "parent.subscription_item_details.subscription"))
    )


def stripe_details(record: dict[str, Any], stream_name: str, obj_type: str) -> dict[str, Any]:
    """Every candidate `_{tenant}.stripe` field for one record (None for what the record lacks).

    The mapper keeps only the fields the dataset's schema has; the rest are reported as unplaced.
    """
    metadata = record.get("metadata")
    obj_id = record.get("id")
    amount = get_path(record, _AMOUNT_FIELDS.get(obj_type, "amount"))
    return {
        "objectType": obj_type,
        "id": obj_id,
        "account": record.get("account_id") or record.get("account"),
        "status": _status(record, obj_type),
        "currency": get_path(record, _CURRENCY_FIELDS.get(obj_type, "currency")),
        "customerId": customer_id(record, obj_type) if obj_type != "customer" else None,
        "invoiceId": ref_id(record.get("invoice")) if obj_type != "invoice" else None,
        "subscriptionId": _subscription_id(record) if obj_type != "subscription" else None,
        "paymentIntentId": ref_id(record.get("payment_intent")) if obj_type != "payment_intent" else None,
        "productId": _product_id(record) if obj_type != "product" else None,
        "priceId": _price_id(record, obj_type) if obj_type not in ("price", "plan") else None,
        "amount": amount,
        "amountRefunded": record.get("amount_refunded"),
        "created": record.get("created"),
        "updated": record.get("updated") or record.get("created"),
        "livemode": record.get("livemode"),
        "deleted": bool(record.get("is_deleted") or record.get("deleted")),
        "metadata": metadata if isinstance(metadata, dict) and metadata else None,
        "description": truncate(record.get("description") or record.get("memo")),
        "name": truncate(_name(record, obj_type), 256),
    }
