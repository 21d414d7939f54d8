"""Which XDM class each Stripe stream lands in by default.

Customers become Individual Profiles, catalog objects (what a purchase refers to) become lookup records of the
custom record class, and everything else (money movements, lifecycle changes, Stripe events) becomes
ExperienceEvents. The mapper itself follows the dataset's schema, so any stream can be sent to any dataset;
this table is the default routing that `target-aep-setup` writes into the `datasets` setting and that the
project's Meltano environments use.
"""

from __future__ import annotations

from target_aep.xdm.schema_tree import XdmClass

PROFILE_STREAMS = frozenset({"customers"})
RECORD_STREAMS = frozenset(
    {
        "products",
        "prices",
        "plans",
        "coupons",
        "promotion_codes",
        # --- issue 9: H7 (who a platform pays out to: reference objects, looked up by id)
        "accounts",
        "persons",
        "external_accounts",
        # --- issue 9: H8 (reference objects: what a customer's invoices and usage refer to)
        "tax_rates",
        "tax_ids",
        "billing_meters",
        # --- issue 9: H9 (what a purchase or a card payment refers to: looked up, not events)
        "payment_links",
        "shipping_rates",
        "files",
        "file_links",
        "issuing_cardholders",
        "issuing_cards",
    }
)


def default_xdm_class(stream_name: str) -> XdmClass:
    """The XDM class a stream's records are meant for: `profile`, `record` or `experienceevent`."""
    if stream_name in PROFILE_STREAMS:
        return "profile"
    if stream_name in RECORD_STREAMS:
        return "record"
    return "experienceevent"
