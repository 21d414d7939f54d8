"""Expected failures end with a clear line naming the cause and exit 1, no traceback: a traceback is for bugs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulators.launch import aep_emulator
from tests.target.conftest import AEP, ALL_STREAMS, REPO, TargetRun, datasets_setting, run_target, singer_text

pytestmark = pytest.mark.timeout(60)

# AEP unreachable through every retry, without waiting out the real retry budget (10 attempts, ~30 s of
# backoff): the same target with two attempts.
TARGET_WITH_TWO_ATTEMPTS = (
    "import target_aep.aep.gateway as g; g.MAX_ATTEMPTS = 2; from target_aep.target import TargetAEP; TargetAEP.cli()"
)


def assert_clear_failure(run: TargetRun, expected: str) -> None:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert any(expected in line for line in run.stderr.splitlines() if "| ERROR" in line), run.stderr[-3000:]
    assert run.states == []


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("ingestion_mode", "sideways", "config['ingestion_mode']"),
        ("datasets", {"customers": {"dataset_id": "nothex"}}, "datasets.customers.dataset_id 'nothex'"),
    ],
)
def test_bad_config_is_one_line_per_setting(setting: str, value: object, expected: str, tmp_path: Path) -> None:
    config = {"client_id": "x", "client_secret": "y", "org_id": "o", setting: value}
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert_clear_failure(run, expected)
    assert "Config validation failed" in run.stderr


def test_aep_unreachable_after_retries(tmp_path: Path) -> None:
    with aep_emulator(store=tmp_path / "store", sandbox_preset="stripe") as process:
        pass  # its address now: a port that just stopped listening
    config = AEP(process, tmp_path).config(tmp_path, datasets=datasets_setting(["customers"]))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-c", TARGET_WITH_TWO_ATTEMPTS, "--config", str(config_path)],
        input=singer_text(ALL_STREAMS),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    run = TargetRun(done.returncode, done.stdout, done.stderr)
    assert_clear_failure(run, "target-aep stopped: IMS token request: no answer after 2 attempts (ConnectionError)")


def test_refused_credentials(aep: AEP, tmp_path: Path) -> None:
    config = aep.config(tmp_path, client_secret="wrong-secret-0000", datasets=datasets_setting(["customers"]))
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert_clear_failure(run, "target-aep stopped: IMS refused the credentials")
    assert "wrong-secret-0000" not in run.stderr
