"""tap-stripe-aep: a Singer tap for Stripe built on the Meltano Singer SDK."""

from stripe_aep_shared.deferred_imports import defer_iri_grammar, defer_modules_the_tap_never_uses

# Before anything imports singer_sdk (and so jsonschema): see stripe_aep_shared.deferred_imports.
defer_iri_grammar()
defer_modules_the_tap_never_uses()
