"""tap-stripe-aep: a Singer tap for Stripe built on the Meltano Singer SDK."""
