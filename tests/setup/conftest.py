"""Fixtures for `target-aep-setup` tests: one AEP emulator for the whole package with several empty sandboxes
(one per test, so tests never see each other's resources), set-up runs in-process, the emulator's request log."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from emulators.launch import EmulatorProcess, aep_emulator
from target_aep.aep.gateway import PlatformGateway
from target_aep.aep.ims import IMSTokenProvider
from target_aep.setup.cli import main as setup_main
from target_aep.setup.platform_api import SetupApi

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
ORG_ID = "EMULATOR0000000000000001@AdobeOrg"
# One empty sandbox per test that writes (the emulator refuses any name it was not started with).
SANDBOXES = ("prod", "plan", "evolve", "grow", "destroy", "conflict", "stream", "denied")


@dataclass
class SetupRun:
    returncode: int
    stdout: str
    stderr: str

    def step(self, kind: str, name: str) -> str:
        """The plan line of one resource (action first), e.g. ``create  schema  Stripe Customer Profile ...``."""
        for line in self.stdout.splitlines():
            parts = line.split()
            if len(parts) > 2 and f" {kind} " in f" {line} " and f" {name} " in f"{line} ":
                return line.strip()
        raise AssertionError(f"no plan line for {kind} '{name}' in:\n{self.stdout}")


@dataclass
class AEP:
    process: EmulatorProcess
    store: Path

    @property
    def url(self) -> str:
        return self.process.url

    def config(self, tmp_path: Path, sandbox: str, **overrides: object) -> Path:
        """A target config file for ``sandbox`` (the same file target-aep reads)."""
        config = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "org_id": ORG_ID,
            "sandbox_name": sandbox,
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
        path = tmp_path / f"target-{sandbox}.json"
        path.write_text(json.dumps(config))
        return path

    def api(self, sandbox: str) -> SetupApi:
        """The project's own Platform client, to read what set-up made or to prepare a sandbox by hand."""
        ims = IMSTokenProvider(
            ims_url=self.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes="openid", timeout=10
        )
        gateway = PlatformGateway(
            platform_url=self.url, ims=ims, client_id=CLIENT_ID, org_id=ORG_ID, sandbox_name=sandbox, timeout=10
        )
        return SetupApi(gateway)

    def requests_log(self) -> list[dict]:
        """Every Platform request the emulator answered, in order: method, path, query, status, sandbox, write."""
        response = requests.get(f"{self.url}/_emulator/requests", timeout=10)
        response.raise_for_status()
        return response.json()["requests"]

    def writes(self, sandbox: str, since: int = 0) -> list[dict]:
        """Requests that changed something in ``sandbox``, from entry ``since`` of the request log."""
        return [r for r in self.requests_log()[since:] if r["write"] and r["sandbox"] == sandbox]

    def faults(self, **changes: object) -> None:
        """Queue faults: ``rate_limit_next=n`` (429 with Retry-After), ``unavailable_next=n`` (503), ..."""
        response = requests.post(f"{self.url}/_emulator/faults", json=changes, timeout=10)
        response.raise_for_status()

    def deny(self, *permissions: str) -> None:
        """Withdraw product-profile permissions from the emulated credential (none: give them all back)."""
        response = requests.post(f"{self.url}/_emulator/permissions", json={"deny": list(permissions)}, timeout=10)
        response.raise_for_status()


@pytest.fixture(scope="package")
def aep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AEP]:
    store = tmp_path_factory.mktemp("aep-store")
    with aep_emulator(store=store, batch_processing_ms=20, sandboxes=",".join(SANDBOXES)) as process:
        yield AEP(process, store)


def run_setup(config: Path, *args: str) -> SetupRun:
    """`target-aep-setup --config FILE ARGS...` in this process (the console script is `cli.main`)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = setup_main(["--config", str(config), *args])
    return SetupRun(code, out.getvalue(), err.getvalue())


def run_setup_process(config: Path, *args: str) -> SetupRun:
    """The installed console script, as a user runs it."""
    script = Path(sys.executable).parent / "target-aep-setup"
    done = subprocess.run(
        [str(script), "--config", str(config), *args], capture_output=True, text=True, timeout=120, check=False
    )
    return SetupRun(done.returncode, done.stdout, done.stderr)
