"""`tap-stripe-aep --config tap.json | target-aep --config target.json > state.json`, then carry on with --state."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulators.launch import EmulatorProcess, aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS
from tests.pipeline.conftest import assert_valid_xdm, stripe_ids_by_object

pytestmark = pytest.mark.timeout(300)
BIN = Path(sys.executable).parent
API_KEY = "sk_test_emulator_0000000000000000"
CLIENT_SECRET = "emulator-client-secret"
CUSTOMERS_DATASET = EMULATOR_DATASETS["customers"]


@pytest.fixture(scope="module")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorProcess, EmulatorProcess, Path]]:
    workdir = tmp_path_factory.mktemp("shell-pipe")
    with (
        stripe_emulator(seed=5, customers=30) as stripe,
        aep_emulator(store=workdir / "store", sandbox_preset="stripe") as aep,
    ):
        yield stripe, aep, workdir


def _write_configs(stripe: EmulatorProcess, aep: EmulatorProcess, workdir: Path) -> tuple[Path, Path]:
    tap_config = workdir / "tap.json"
    tap_config.write_text(json.dumps({"api_key": API_KEY, "api_url": stripe.url, "max_requests_per_second": 200}))
    target_config = workdir / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "client_id": "emulator-client-id",
                "client_secret": CLIENT_SECRET,
                "org_id": "EMULATOR0000000000000001@AdobeOrg",
                "ims_url": aep.url,
                "platform_url": aep.url,
                "streaming_url": aep.url,
                "dead_letter_path": str(workdir / "rejected.jsonl"),
                "report_path": str(workdir / "report.html"),
                "repairs_path": str(workdir / "repairs.jsonl"),
                "datasets": {"customers": {"dataset_id": CUSTOMERS_DATASET}},
            }
        )
    )
    return tap_config, target_config


def _pipe(tap_args: str, target_config: Path, state_out: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = (
        f"set -o pipefail; {BIN}/tap-stripe-aep {tap_args} | {BIN}/target-aep --config {target_config} > {state_out}"
    )
    return subprocess.run(["bash", "-c", command], cwd=workdir, capture_output=True, text=True, timeout=240)


def _landed(aep: EmulatorProcess) -> list[dict]:
    return requests.get(f"{aep.url}/_emulator/landed/{CUSTOMERS_DATASET}", timeout=30).json()


def test_shell_pipe_then_resume_from_state(emulators, xdm_validators) -> None:
    stripe, aep, workdir = emulators
    tap_config, target_config = _write_configs(stripe, aep, workdir)
    catalog = workdir / "catalog.json"
    discovered = subprocess.run(
        [f"{BIN}/tap-stripe-aep", "--config", str(tap_config), "--discover"], capture_output=True, text=True, check=True
    )
    streams = json.loads(discovered.stdout)
    for stream in streams["streams"]:  # select only customers: the other streams have no dataset here
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "customers"
    catalog.write_text(json.dumps(streams))

    first = _pipe(f"--config {tap_config} --catalog {catalog}", target_config, workdir / "state-1.json", workdir)
    assert first.returncode == 0, first.stderr[-3000:]
    state_lines = (workdir / "state-1.json").read_text().splitlines()
    assert state_lines, "the target wrote no state"
    last_state = json.loads(state_lines[-1])
    assert "customers" in json.dumps(last_state)

    customers = requests.get(f"{stripe.url}/_emulator/objects/customers", timeout=30).json()
    landed = _landed(aep)
    assert stripe_ids_by_object(landed)["customer"] == {c["id"] for c in customers}
    assert_valid_xdm(xdm_validators[CUSTOMERS_DATASET], landed)
    for secret in (API_KEY, CLIENT_SECRET):
        assert secret not in first.stderr and secret not in "\n".join(state_lines)

    touched = requests.post(f"{stripe.url}/_emulator/mutate", json={"updates": 10, "creates": 5}, timeout=30).json()
    changed_customers = set(touched["updated"].get("customers", [])) | set(touched["created"].get("customers", []))
    assert changed_customers, touched

    state_in = workdir / "state-in.json"
    state_in.write_text(json.dumps(last_state))
    second = _pipe(
        f"--config {tap_config} --catalog {catalog} --state {state_in}",
        target_config,
        workdir / "state-2.json",
        workdir,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    landed_second = _landed(aep)[len(landed) :]
    assert {r["_acme"]["stripe"]["id"] for r in landed_second} == changed_customers
    assert (workdir / "state-2.json").read_text().splitlines(), "the second run wrote no state"
