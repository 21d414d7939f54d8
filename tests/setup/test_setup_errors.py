"""Set-up failures end with one clear line (no traceback) that says what to do, and bad config fails before any
request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.setup.conftest import AEP, run_setup, run_setup_process

pytestmark = pytest.mark.timeout(120)


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_bad_config_fails_before_any_request_naming_the_setting(aep: AEP, tmp_path: Path) -> None:
    before = len(aep.requests_log())
    config = aep.config(tmp_path, "prod", client_secret="", customer_identity_namespace="Stripe-Customer")

    run = run_setup(config, "--apply")

    assert run.returncode == 1
    line = _one_line(run.stderr)
    assert "client_secret is required" in line and "customer_identity_namespace" in line, line
    assert len(aep.requests_log()) == before


def test_an_unknown_sandbox_is_one_clear_line(aep: AEP, tmp_path: Path) -> None:
    run = run_setup_process(aep.config(tmp_path, "nosuchsandbox"))

    assert run.returncode == 1
    line = _one_line(run.stderr)
    assert "sandbox 'nosuchsandbox'" in line and "sandbox_name" in line, line
    assert "emulator-client-secret" not in run.stdout + run.stderr


def test_a_missing_permission_names_the_api_and_the_permission(aep: AEP, tmp_path: Path) -> None:
    aep.deny("Manage Schemas")
    try:
        run = run_setup(aep.config(tmp_path, "denied"), "--apply")
    finally:
        aep.deny()

    assert run.returncode == 1
    line = _one_line(run.stderr)
    assert "Schema Registry" in line and "'Manage Schemas'" in line and "product profile" in line, line
    # What was made before the refusal is listed (the namespace: Identity Service was allowed), and what was not.
    made = run.stdout[run.stdout.index("Made by this run before it stopped") : run.stdout.index("Not done:")]
    assert "created identity namespace 'StripeCustomerId'" in made
    assert "create class 'Stripe Catalog Object'" in run.stdout[run.stdout.index("Not done:") :]


def test_config_from_the_environment_as_meltano_invoke_passes_it(
    aep: AEP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`meltano invoke target-aep:setup` runs `--config ENV`: every value arrives as text, numbers included."""
    settings = json.loads(aep.config(tmp_path, "prod").read_text())
    for name, value in settings.items():
        if not isinstance(value, dict):
            monkeypatch.setenv(f"TARGET_AEP_{name.upper()}", str(value))
    monkeypatch.setenv("TARGET_AEP_REQUEST_TIMEOUT_SECONDS", "60")
    monkeypatch.chdir(tmp_path)  # no .env file of the repository's is read

    run = run_setup(Path("ENV"))

    assert run.returncode == 0, run.stderr
    assert "request_timeout_seconds" not in run.stderr
    assert "create" in run.stdout or "exists" in run.stdout, run.stdout
