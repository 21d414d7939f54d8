"""target-aep: a Singer target that writes validated XDM to Adobe Experience Platform."""

from target_aep.deferred_imports import defer_iri_grammar

defer_iri_grammar()  # before anything imports singer_sdk (and so jsonschema): see target_aep.deferred_imports
