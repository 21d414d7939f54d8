"""Run the tap as a real subprocess and collect what it wrote: records per stream, STATE lines, logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from emulators.launch import REPO_ROOT

FULL_KEY = "sk_test_emulator_0000000000000000"
LIMITED_KEY = "rk_test_emulator_limited000000000"
TAP_COMMAND = [sys.executable, "-m", "tap_stripe_aep.tap"]


@dataclass
class TapRun:
    """What one run of the tap wrote."""

    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def ids(self, stream: str) -> list[str]:
        return [r["id"] for r in self.records.get(stream, [])]


def parse_messages(stdout: str) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    states: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "STATE":
            states.append(message["value"])
    return records, states


_catalog_cache: dict[str, Any] = {}


def catalog_selecting(streams: list[str] | None) -> dict[str, Any]:
    """The tap's catalog with only ``streams`` selected (all when None)."""
    if "catalog" not in _catalog_cache:
        from tap_stripe_aep.tap import TapStripeAEP

        tap = TapStripeAEP(config={"api_key": FULL_KEY}, validate_config=False, setup_mapper=False)
        _catalog_cache["catalog"] = tap.catalog_dict
    catalog = json.loads(json.dumps(_catalog_cache["catalog"]))
    for entry in catalog["streams"]:
        chosen = streams is None or entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = chosen
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    streams: list[str] | None = None,
    timeout: float = 90,
    command: list[str] = TAP_COMMAND,
) -> TapRun:
    """Run ``tap-stripe-aep`` to completion with this config (and state, and stream selection)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = _write_inputs(Path(tmp), config, state, streams)
        proc = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, env=_env()
        )
    run = TapRun(proc.returncode, proc.stdout, proc.stderr)
    if proc.returncode == 0:
        run.records, run.states = parse_messages(proc.stdout)
    return run


def start_tap(
    config: dict[str, Any],
    workdir: Path,
    *,
    state: dict[str, Any] | None = None,
    streams: list[str] | None = None,
    stderr: IO[str] | int = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    """Start the tap without waiting (for tests that kill it); ``stderr`` a file to keep its log."""
    args = _write_inputs(workdir, config, state, streams)
    return subprocess.Popen(
        [*TAP_COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=REPO_ROOT,
        env=_env(),
    )


def _write_inputs(
    workdir: Path, config: dict[str, Any], state: dict[str, Any] | None, streams: list[str] | None
) -> list[str]:
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog_selecting(streams)))
    args = ["--config", str(config_path), "--catalog", str(catalog_path)]
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    return args


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1")


def tap_config(url: str, **settings: Any) -> dict[str, Any]:
    """A config for the emulator at ``url``: its full-access key and no client-side limit to speak of."""
    return {"api_key": FULL_KEY, "api_url": url, "max_requests_per_second": 500, **settings}


class Control:
    """The emulator's test-only control endpoints (never used by the tap)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def objects(self, resource: str, account: str | None = None) -> list[dict[str, Any]]:
        params = {"account": account} if account else None
        response = requests.get(f"{self.url}/_emulator/objects/{resource}", params=params, timeout=60)
        response.raise_for_status()
        body = response.json()
        return body["data"] if isinstance(body, dict) else body

    def deleted(self, resource: str, account: str | None = None) -> list[str]:
        params = {"account": account} if account else None
        response = requests.get(f"{self.url}/_emulator/deleted/{resource}", params=params, timeout=60)
        response.raise_for_status()
        body = response.json()
        return body["data"] if isinstance(body, dict) else body

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}/_emulator/{endpoint}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_emulator/stats", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]
