"""Fixtures for the tap's tests: Stripe emulators as real subprocesses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.launch import EmulatorProcess, stripe_emulator
from tests.tap.tap_runner import Control, TapRun, run_tap, tap_config

# Small enough to read in a few seconds, large enough that the busiest lists span several pages and windows.
CUSTOMERS = 60


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[EmulatorProcess]:
    """An emulator no test changes: for tests that only read."""
    with stripe_emulator(customers=CUSTOMERS, rate_limit=0) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def full_run(shared_emulator: EmulatorProcess) -> TapRun:
    """One complete first run of every stream against the shared emulator."""
    run = run_tap(tap_config(shared_emulator.url))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture
def own_emulator() -> Iterator[EmulatorProcess]:
    """A fresh emulator for a test that changes data, the clock or faults."""
    with stripe_emulator(customers=20, rate_limit=0) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def control(shared_emulator: EmulatorProcess) -> Control:
    return Control(shared_emulator.url)
