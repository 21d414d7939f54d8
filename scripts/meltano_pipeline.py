"""Run the project's Meltano pipeline against the local emulators: shared by `make demo` and tests/pipeline.

The project's ``meltano.yml`` points its default ``local`` environment at fixed emulator ports; this module starts
both emulators on free ports instead and hands their addresses to Meltano through the plugins' setting
variables (``TAP_STRIPE_AEP_API_URL``, ``TARGET_AEP_PLATFORM_URL``, ...), so runs never collide with anything
already listening.

The AEP emulator starts with the ``stripe`` sandbox preset (the datasets the ``local`` environment names) unless
``aep_preset=None``: then the sandbox is empty, ``setup()`` provisions it with ``meltano invoke target-aep:setup``,
and the ``datasets`` it wrote are handed to the target (``TARGET_AEP_DATASETS``) for the runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from emulators.launch import EmulatorProcess, aep_emulator, stripe_emulator  # noqa: E402

MELTANO = str(Path(sys.executable).parent / "meltano")
STATE_ID = "local:tap-stripe-aep-to-target-aep"


@dataclass
class RunResult:
    """One ``meltano run``: its exit code, its log, and the records the tap counted per stream."""

    returncode: int
    log: str
    seconds: float
    records_read: Counter[str] = field(default_factory=Counter)


class LocalPipeline:
    """Both emulators plus the Meltano settings that aim the project's plugins at them."""

    def __init__(
        self,
        workdir: Path,
        *,
        customers: int = 400,
        seed: int = 7,
        aep_preset: str | None = "stripe",
        **stripe_options: Any,
    ) -> None:
        self.workdir = workdir
        self.store = workdir / "aep-store"
        self.dead_letter_path = workdir / "target-aep-rejected.jsonl"
        self.report_path = workdir / "target-aep-report.html"  # the target's run report (and .json beside it)
        self.datasets: dict[str, dict[str, str]] | None = None  # set by setup(); else meltano.yml's own
        self._stack = ExitStack()
        self.stripe: EmulatorProcess = stripe_emulator(seed=seed, customers=customers, **stripe_options)
        preset = {"sandbox_preset": aep_preset} if aep_preset else {}
        self.aep: EmulatorProcess = aep_emulator(store=self.store, **preset)

    def __enter__(self) -> LocalPipeline:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._stack.enter_context(self.stripe)
        self._stack.enter_context(self.aep)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def env(self) -> dict[str, str]:
        """The environment for a Meltano command: emulator addresses, where rejects go, the datasets."""
        env = dict(
            os.environ,
            MELTANO_ENVIRONMENT="local",
            MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
            TAP_STRIPE_AEP_API_URL=self.stripe.url,
            TARGET_AEP_IMS_URL=self.aep.url,
            TARGET_AEP_PLATFORM_URL=self.aep.url,
            TARGET_AEP_STREAMING_URL=self.aep.url,
            TARGET_AEP_DEAD_LETTER_PATH=str(self.dead_letter_path),
            TARGET_AEP_REPORT_PATH=str(self.report_path),
            TARGET_AEP_REPAIRS_PATH=str(self.workdir / "target-aep-repairs.jsonl"),
        )
        if self.datasets is not None:
            env["TARGET_AEP_DATASETS"] = json.dumps(self.datasets)
        return env

    def meltano(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run one Meltano command in the repository's project, output captured."""
        return subprocess.run(
            [MELTANO, *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def install(self) -> None:
        """``meltano install`` (fast with the uv backend); raises with Meltano's output when it fails."""
        done = self.meltano("install")
        if done.returncode != 0:
            raise RuntimeError(f"meltano install failed:\n{done.stdout}\n{done.stderr}")

    def setup(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``meltano invoke target-aep:setup --datasets-out FILE ARGS...``; the runs then use those datasets."""
        datasets_out = self.workdir / "datasets.json"
        done = self.meltano("invoke", "target-aep:setup", "--datasets-out", str(datasets_out), *args)
        if done.returncode == 0 and datasets_out.exists():
            self.datasets = json.loads(datasets_out.read_text())
        return done

    def run(self, *, full_refresh: bool = False) -> RunResult:
        """``meltano run tap-stripe-aep target-aep``; Meltano keeps the state between runs."""
        started = time.monotonic()
        # JSON logs keep the SDK's metric tags (the stream name), which Meltano's console format drops.
        args = ["--log-format", "json", "run", *(["--full-refresh"] if full_refresh else [])]
        args += ["tap-stripe-aep", "target-aep"]
        done = self.meltano(*args)
        log = done.stdout + done.stderr
        return RunResult(done.returncode, log, time.monotonic() - started, records_read_per_stream(log))

    def mutate(self, **changes: int) -> dict[str, dict[str, list[str]]]:
        """Apply updates, deletions and creations in the Stripe emulator (with their events)."""
        response = requests.post(f"{self.stripe.url}/_emulator/mutate", json=changes, timeout=60)
        response.raise_for_status()
        return response.json()

    def stripe_objects(self, resource: str) -> list[dict[str, Any]]:
        """Every live object the Stripe emulator holds for one stream."""
        response = requests.get(f"{self.stripe.url}/_emulator/objects/{resource}", timeout=60)
        response.raise_for_status()
        return response.json()

    def landed(self, dataset_id: str) -> list[dict[str, Any]]:
        """Every record that landed in one dataset of the AEP emulator, in arrival order."""
        response = requests.get(f"{self.aep.url}/_emulator/landed/{dataset_id}", timeout=60)
        response.raise_for_status()
        return response.json()

    def rejected(self) -> list[dict[str, Any]]:
        """The dead-letter file's entries (empty when nothing was rejected)."""
        if not self.dead_letter_path.exists():
            return []
        return [json.loads(line) for line in self.dead_letter_path.read_text().splitlines() if line.strip()]


def records_read_per_stream(log: str, plugin: str = "tap-stripe-aep") -> Counter[str]:
    """Sum one plugin's ``record_count`` metrics per stream from a JSON-format Meltano log.

    Both the tap and the target count records under the same metric name; Meltano tags each log event with the
    plugin that wrote it (``"name": "tap-stripe-aep"``), which tells them apart.
    """
    counts: Counter[str] = Counter()
    for line in log.splitlines():
        if '"record_count"' not in line:
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        metric = event.get("metric_info") or {}
        stream = (metric.get("tags") or {}).get("stream")
        if event.get("name") == plugin and metric.get("metric") == "record_count" and stream:
            counts[stream] += int(metric.get("value", 0))
    return counts
