"""429s, 500s and dropped connections are retried: the run still ends with every object."""

from __future__ import annotations

import pytest

from emulators.launch import stripe_emulator
from tests.tap.tap_runner import Control, run_tap, tap_config

pytestmark = pytest.mark.timeout(120)

STREAMS = ["customers", "charges", "invoices"]


def test_rate_limits_and_faults_are_survived() -> None:
    with stripe_emulator(customers=40, rate_limit=10, fault_rate=0.15) as emulator:
        control = Control(emulator.url)
        run = run_tap(
            tap_config(emulator.url, max_requests_per_second=40, backfill_window_days=30), streams=STREAMS, timeout=110
        )
        assert run.returncode == 0, run.stderr[-3000:]
        stats = control.stats()
        control.post("faults", {"fault_rate": 0, "rate_limit": 0})
        for stream in STREAMS:
            assert set(run.ids(stream)) == {obj["id"] for obj in control.objects(stream)}, stream
            assert len(run.ids(stream)) == len(set(run.ids(stream)))
        assert stats["rate_limited"] > 0 and stats["faults"] > 0, stats


def test_client_side_limit_keeps_under_stripes_limit() -> None:
    with stripe_emulator(customers=60, rate_limit=10) as emulator:
        control = Control(emulator.url)
        config = tap_config(emulator.url, max_requests_per_second=8, backfill_window_days=60)
        run = run_tap(config, streams=["charges", "payment_intents"])
        assert run.returncode == 0, run.stderr[-3000:]
        stats = control.stats()
        assert stats["requests"] > 20, stats
        assert stats["rate_limited"] == 0, stats
        assert set(run.ids("charges")) == {obj["id"] for obj in control.objects("charges")}
