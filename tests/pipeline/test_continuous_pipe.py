"""Continuous mode end to end: `tap-stripe-aep (poll 1 s) | target-aep (streaming, lag 2 s) > state`.

A change made in Stripe while both run lands in AEP and a STATE past it comes out of the target while the pipe is
still open; SIGTERM to the tap ends the pipe cleanly: the tap's last STATE, the target's confirmation, both exit 0.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.launch import aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS
from tests.tap.tap_runner import catalog_selecting

pytestmark = pytest.mark.timeout(120)
BIN = Path(sys.executable).parent
CUSTOMERS_DATASET = EMULATOR_DATASETS["customers"]
INLET = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"


def _states(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_continuous_pipe_lands_changes_and_confirms_state_while_running(tmp_path: Path) -> None:
    with (
        stripe_emulator(seed=7, customers=15) as stripe,
        aep_emulator(store=tmp_path / "store", sandbox_preset="stripe") as aep,
    ):
        tap_config = tmp_path / "tap.json"
        tap_config.write_text(
            json.dumps(
                {
                    "api_key": "sk_test_emulator_0000000000000000",
                    "api_url": stripe.url,
                    "max_requests_per_second": 200,
                    "poll_interval_seconds": 1,
                }
            )
        )
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(catalog_selecting(["customers"])))
        target_config = tmp_path / "target.json"
        target_config.write_text(
            json.dumps(
                {
                    "client_id": "emulator-client-id",
                    "client_secret": "emulator-client-secret",
                    "org_id": "EMULATOR0000000000000001@AdobeOrg",
                    "ims_url": aep.url,
                    "platform_url": aep.url,
                    "streaming_url": aep.url,
                    "ingestion_mode": "streaming",
                    "max_state_lag_seconds": 2,
                    "dead_letter_path": str(tmp_path / "rejected.jsonl"),
                    "datasets": {"customers": {"dataset_id": CUSTOMERS_DATASET, "inlet_id": INLET}},
                }
            )
        )
        state_out = tmp_path / "state.jsonl"
        with (
            state_out.open("w") as out,
            (tmp_path / "tap.log").open("w") as tap_log,
            (tmp_path / "target.log").open("w") as target_log,
        ):
            tap = subprocess.Popen(
                [f"{BIN}/tap-stripe-aep", "--config", str(tap_config), "--catalog", str(catalog)],
                stdout=subprocess.PIPE,
                stderr=tap_log,
                cwd=tmp_path,
            )
            target = subprocess.Popen(
                [f"{BIN}/target-aep", "--config", str(target_config)],
                stdin=tap.stdout,
                stdout=out,
                stderr=target_log,
                cwd=tmp_path,
            )
            assert tap.stdout is not None
            tap.stdout.close()  # the target holds the pipe's read end now

            def landed_ids() -> list[str]:
                response = requests.get(f"{aep.url}/_emulator/landed/{CUSTOMERS_DATASET}", timeout=10)
                body = response.json()
                records = body["data"] if isinstance(body, dict) else body
                return [r["_acme"]["stripe"]["id"] for r in records]

            _wait_for(lambda: len(set(landed_ids())) == 15 and bool(_states(state_out)))
            states_before = len(_states(state_out))
            landed_before = len(landed_ids())

            answer = requests.post(
                f"{stripe.url}/_emulator/mutate",
                json={"updates": 2, "creates": 1, "resources": ["customers"]},
                timeout=10,
            ).json()
            changed = set(answer["updated"]["customers"]) | set(answer["created"]["customers"])
            # The changes land and a STATE past them is confirmed while the pipe stays open.
            _wait_for(lambda: changed <= set(landed_ids()[landed_before:]) and len(_states(state_out)) > states_before)

            tap.send_signal(signal.SIGTERM)
            tap_code = tap.wait(timeout=30)
            target_code = target.wait(timeout=30)

        tap_text = (tmp_path / "tap.log").read_text()
        target_text = (tmp_path / "target.log").read_text()
        assert tap_code == 0, tap_text[-2000:]
        assert target_code == 0, target_text[-2000:]
        last = _states(state_out)[-1]
        partition = last["bookmarks"]["customers"]["partitions"][0]
        assert "events_since" in partition and "backfill_started_at" not in partition
        # Each change landed once: the polls' overlap did not send it again.
        after = landed_ids()[landed_before:]
        assert sorted(after) == sorted(changed), after
        assert "live changes, Stripe to AEP confirmation" in target_text
