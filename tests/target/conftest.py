"""Fixtures for target tests: one AEP emulator per module, configs, and a helper that runs ``target-aep``.

The target runs as a real subprocess (``python -m target_aep.target``) so exit codes, stdout STATE lines and
stderr logs are exactly what Meltano would see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from emulators.launch import EmulatorProcess, aep_emulator
from target_aep.xdm.stream_classes import default_xdm_class

REPO = Path(__file__).resolve().parents[2]
DATA_FILES = REPO / "tests" / "data_files"
XDM_DIR = REPO / "xdm"

CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG_ID = "EMULATOR0000000000000001@AdobeOrg"
INLET_ID = "emulator-inlet-0000000000000000000000000000000000000000000000000000000001"
DATASET_BY_CLASS = {
    "profile": "6650f0c0ffee000000000001",
    "experienceevent": "6650f0c0ffee000000000002",
    "record": "6650f0c0ffee000000000003",
}
SCHEMA_FILE_BY_DATASET = {
    "6650f0c0ffee000000000001": "stripe-customer-profile.schema.json",
    "6650f0c0ffee000000000002": "stripe-commerce-event.schema.json",
    "6650f0c0ffee000000000003": "stripe-catalog-record.schema.json",
}


ALL_STREAMS = "stripe_all_streams.singer"  # one sample record set covering every stream of the interface


def singer_messages(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA_FILES / name).read_text().splitlines() if line.strip()]


def dataset_for(stream: str) -> str:
    """The emulator dataset each stream is configured to land in (the XDM class follows the dataset): the
    target's own default routing, so every stream lands where `target-aep-setup` would send it."""
    return DATASET_BY_CLASS[default_xdm_class(stream)]


def dataset_schema(dataset_id: str) -> dict:
    return json.loads((XDM_DIR / SCHEMA_FILE_BY_DATASET[dataset_id]).read_text())


def streams_in(name: str) -> list[str]:
    return [m["stream"] for m in singer_messages(name) if m["type"] == "SCHEMA"]


def datasets_setting(streams: list[str], *, inlet: bool = False) -> dict[str, dict]:
    setting = {}
    for stream in streams:
        entry = {"dataset_id": dataset_for(stream)}
        if inlet:
            entry["inlet_id"] = INLET_ID
        setting[stream] = entry
    return setting


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@dataclass
class AEP:
    """A running AEP emulator with its store directory."""

    process: EmulatorProcess
    store: Path

    @property
    def url(self) -> str:
        return self.process.url

    def faults(self, **changes: object) -> dict:
        response = requests.post(f"{self.url}/_emulator/faults", json=changes, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_emulator/stats", timeout=10).json()

    def landed(self, dataset_id: str) -> list[dict]:
        from emulators.aep.store import read_landed

        return read_landed(self.store, dataset_id)

    def landed_counts(self) -> dict[str, int]:
        """Records landed so far per dataset (tests share one emulator per module: compare before and after)."""
        return {d: len(self.landed(d)) for d in SCHEMA_FILE_BY_DATASET}

    def config(self, tmp_path: Path, **overrides: object) -> dict:
        config = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "org_id": ORG_ID,
            "ims_url": self.url,
            "platform_url": self.url,
            "streaming_url": self.url,
            "dead_letter_path": str(tmp_path / "rejected.jsonl"),
            "report_path": str(tmp_path / "report.html"),
            "repairs_path": str(tmp_path / "repairs.jsonl"),
            "request_timeout_seconds": 10,
            "poll_timeout_seconds": 30,
        }
        config.update(overrides)
        return config


@pytest.fixture(scope="module")
def aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AEP]:
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(store=store, batch_processing_ms=20, sandbox_preset="stripe") as process:
        yield AEP(process, store)


def run_target(config: dict, input_text: str, tmp_path: Path, *, timeout: float = 60) -> TargetRun:
    """Run the target CLI on ``input_text`` with ``config``; returns exit code, stdout and stderr."""
    config_path = tmp_path / f"config-{os.urandom(4).hex()}.json"
    config_path.write_text(json.dumps(config))
    completed = subprocess.run(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        input=input_text,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
    return TargetRun(completed.returncode, completed.stdout, completed.stderr)


def singer_text(name: str) -> str:
    return (DATA_FILES / name).read_text()
