"""target-aep: a Singer target that writes validated XDM to Adobe Experience Platform."""

from stripe_aep_shared.deferred_imports import defer_iri_grammar

defer_iri_grammar()  # before anything imports singer_sdk (and so jsonschema): see stripe_aep_shared.deferred_imports
