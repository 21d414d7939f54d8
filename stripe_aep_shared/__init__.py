"""What both plugins of this distribution share at start-up (tap-stripe-aep and target-aep).

A package of its own so that neither plugin imports the other's: each plugin's ``__init__`` calls
:func:`stripe_aep_shared.deferred_imports.defer_iri_grammar` before anything imports the Singer SDK.
"""
