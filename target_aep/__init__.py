"""target-aep: a Singer target that writes validated XDM to Adobe Experience Platform."""

from stripe_aep_shared.deferred_imports import defer_iri_grammar, defer_modules_the_target_never_uses

# Before anything imports singer_sdk (and so jsonschema, joblib, upath): see stripe_aep_shared.deferred_imports.
defer_iri_grammar()
defer_modules_the_target_never_uses()
