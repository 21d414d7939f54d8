"""Stripe products an account may lack (Connect, Issuing, Radar, Billing meters, ...) and Stripe's answer then.

An account that has not activated a product answers that product's lists with a 400 naming no parameter:
``Your account is not set up to use Issuing...``. Which resources belong to which product is the table below;
which products an account lacks is set with ``--disabled-products`` or ``POST /_emulator/products``.
"""

from __future__ import annotations

from emulators.stripe.errors import ApiError

# API resource (first path segment after /v1/, or ``checkout/sessions``-style) -> the product it belongs to.
PRODUCT_OF_RESOURCE: dict[str, str] = {
    # --- issue 9: H7
    "accounts": "Connect",
    "application_fees": "Connect",
    # --- issue 9: H8
    "billing/meters": "Billing meters",
    # --- issue 9: H9
    "radar/early_fraud_warnings": "Radar",
    "reviews": "Radar",
    "issuing/authorizations": "Issuing",
    "issuing/cardholders": "Issuing",
    "issuing/cards": "Issuing",
    "issuing/disputes": "Issuing",
    "issuing/transactions": "Issuing",
}

_DASHBOARD_PAGE = {"Connect": "connect", "Issuing": "issuing/overview", "Radar": "radar"}


def product_of(resource: str) -> str | None:
    """The product a resource belongs to, if it is one an account can lack."""
    return PRODUCT_OF_RESOURCE.get(resource)


def product_not_enabled(product: str) -> ApiError:
    """Stripe's answer to a list of a product the account has not activated."""
    page = _DASHBOARD_PAGE.get(product, product.lower().replace(" ", "-"))
    return ApiError(
        400,
        f"Your account is not set up to use {product}. Please visit https://dashboard.stripe.com/{page} "
        "to get started.",
    )
