"""Stripe streams by area: payments, billing, catalog, and the event log itself."""
