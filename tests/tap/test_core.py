"""The Singer SDK's standard tap tests, against a small Stripe emulator."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from emulators.launch import stripe_emulator
from tap_stripe_aep.tap import TapStripeAEP
from tests.tap.tap_runner import tap_config

# The SDK builds the test class (and instantiates the tap) at import time, so its emulator starts here.
_EMULATOR = stripe_emulator(customers=8, rate_limit=0).start()
atexit.register(_EMULATOR.stop)

pytestmark = pytest.mark.timeout(120)

TestTapStripeAEP = get_tap_test_class(
    TapStripeAEP,
    config=tap_config(_EMULATOR.url),
    suite_config=SuiteConfig(
        # Deletable objects only appear when a deletion is seen; none are in a first run.
        ignore_no_records_for_streams=[],
    ),
)
