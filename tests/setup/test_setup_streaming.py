"""`--streaming`: the HTTP API connection, its inlet and one dataflow per dataset; the target streams through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulators.aep.store import read_landed
from tests.setup.conftest import AEP, REPO, run_setup

pytestmark = pytest.mark.timeout(120)

SAMPLES = REPO / "tests" / "data_files" / "stripe_all_streams.singer"


def test_streaming_setup_yields_inlets_the_target_streams_through(aep: AEP, tmp_path: Path) -> None:
    config_path = aep.config(tmp_path, "stream", ingestion_mode="streaming")
    datasets_out = tmp_path / "datasets.json"

    run = run_setup(config_path, "--apply", "--streaming", "--datasets-out", str(datasets_out))

    assert run.returncode == 0, run.stderr
    datasets = json.loads(datasets_out.read_text())
    inlets = {entry["inlet_id"] for entry in datasets.values()}
    assert len(inlets) == 1 and all(inlets), inlets
    assert run.stdout.count("created dataflow") == 3, run.stdout

    again = run_setup(config_path, "--apply", "--streaming")
    assert "Nothing to do" in again.stdout, again.stdout

    config = json.loads(config_path.read_text())
    config["datasets"] = datasets
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "target_aep.target", "--config", str(target_config)],
        input=SAMPLES.read_text(),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sent = {
        m["record"]["id"]
        for m in map(json.loads, SAMPLES.read_text().splitlines())
        if m["type"] == "RECORD" and m["stream"] == "charges"
    }
    charges_dataset = datasets["charges"]["dataset_id"]
    landed = {r["_acme"]["stripe"]["id"] for r in read_landed(aep.store, charges_dataset)}
    assert sent and sent <= landed
