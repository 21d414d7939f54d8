"""Decimals in a config file reach the plugins as ``Decimal`` (the SDK parses floats that way): both accept them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tap_stripe_aep.tap import TapStripeAEP

BIN = Path(sys.executable).parent


def test_tap_accepts_decimal_rates_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tap.json"
    config.write_text(
        json.dumps({"api_key": "sk_test_" + "a" * 24, "max_requests_per_second": 12.5, "backfill_window_days": 0.5})
    )
    tap = TapStripeAEP(config=config, validate_config=True)  # raised ConfigError on Decimal('12.5') before
    assert tap.max_requests_per_second == 12.5
    assert tap.max_concurrency == 8


def test_target_accepts_decimal_settings_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "target.json"
    config.write_text(
        json.dumps(
            {
                "output_dir": str(tmp_path / "out"),
                "tenant_id": "acme",
                "max_rejected_share": 0.05,
                "poll_timeout_seconds": 90.5,
                "request_timeout_seconds": 12.5,
                "dead_letter_path": str(tmp_path / "rejected.jsonl"),
                "report_path": str(tmp_path / "report.html"),
                "repairs_path": str(tmp_path / "repairs.jsonl"),
            }
        )
    )
    done = subprocess.run(
        [BIN / "target-aep", "--config", config], input="", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
