"""Decimals in a config file reach the plugins as ``Decimal`` (the SDK parses floats that way), number settings from
Meltano or ``--config ENV`` as text: both plugins read each as the number."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError

from stripe_aep_shared.number_settings import numbers_from_text
from tap_stripe_aep.tap import TapStripeAEP
from target_aep.target import TargetAEP

BIN = Path(sys.executable).parent
REPO_ROOT = Path(__file__).resolve().parent.parent


def test_tap_accepts_decimal_rates_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tap.json"
    config.write_text(
        json.dumps({"api_key": "sk_test_" + "a" * 24, "max_requests_per_second": 12.5, "backfill_window_days": 0.5})
    )
    tap = TapStripeAEP(config=config, validate_config=True)  # raised ConfigError on Decimal('12.5') before
    assert tap.max_requests_per_second == 12.5
    assert tap.max_concurrency == 8


@pytest.mark.parametrize("as_text", [False, True], ids=["numbers", "text"])
def test_target_accepts_decimal_settings_from_a_config_file(tmp_path: Path, as_text: bool) -> None:
    spell = str if as_text else float
    config = tmp_path / "target.json"
    config.write_text(
        json.dumps(
            {
                "output_dir": str(tmp_path / "out"),
                "tenant_id": "acme",
                "max_rejected_share": spell(0.05),
                "poll_timeout_seconds": spell(90.5),
                "request_timeout_seconds": spell(12.5),
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


def test_number_settings_given_as_text_are_read_as_numbers(tmp_path: Path) -> None:
    # How Meltano (kind: string) and the SDK's `--config ENV` hand a number setting over: as its text.
    tap = TapStripeAEP(
        config={"api_key": "sk_test_" + "a" * 24, "max_requests_per_second": " 12.5", "backfill_window_days": "2"},
        validate_config=True,
    )
    assert tap.config["max_requests_per_second"] == 12.5
    assert tap.config["backfill_window_days"] == 2
    assert tap.max_requests_per_second == 12.5


def test_a_number_setting_whose_text_is_no_number_is_refused_naming_it() -> None:
    with pytest.raises(ConfigValidationError) as refused:
        TapStripeAEP(config={"api_key": "sk_test_" + "a" * 24, "max_requests_per_second": "fast"})
    assert "max_requests_per_second" in str(refused.value.errors)
    with pytest.raises(ConfigValidationError) as refused:
        TapStripeAEP(config={"api_key": "sk_test_" + "a" * 24, "max_requests_per_second": "nan"})
    assert "max_requests_per_second" in str(refused.value.errors)


@pytest.mark.parametrize(
    ("plugin", "variable", "setting", "text", "number"),
    [
        ("tap-stripe-aep", "TAP_STRIPE_AEP_MAX_REQUESTS_PER_SECOND", "max_requests_per_second", "12.5", 12.5),
        ("target-aep", "TARGET_AEP_MAX_REJECTED_SHARE", "max_rejected_share", "0.05", 0.05),
    ],
)
def test_meltano_passes_a_number_setting_from_the_environment(
    tmp_path: Path, plugin: str, variable: str, setting: str, text: str, number: float
) -> None:
    """Meltano 4.4 failed writing the plugin's config ("Decimal is not JSON serializable") while the settings'
    kind was ``decimal``; as ``string`` it writes the text, which the plugin reads as the number."""
    shutil.copy(REPO_ROOT / "meltano.yml", tmp_path / "meltano.yml")
    dumped = subprocess.run(
        [BIN / "meltano", "invoke", "--dump=config", plugin],
        cwd=tmp_path,
        env={**os.environ, variable: text},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    config = json.loads(dumped.stdout)
    assert config[setting] == text
    if plugin == "tap-stripe-aep":
        assert TapStripeAEP(config=config, validate_config=True).config[setting] == number
    else:
        numbers_from_text(config, TargetAEP.config_jsonschema)
        assert config[setting] == number
