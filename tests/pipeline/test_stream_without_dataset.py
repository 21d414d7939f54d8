"""A stream with no dataset loses nothing under Meltano's own state backend (`meltano run`, `meltano state get`).

The defect this guards against: the target skipped a stream with no `datasets` entry, Meltano saved the tap's
advanced bookmarks, and once the entry was added the next run sent nothing of that stream's history.

Run 1, `customers` without an entry: the run fails and Meltano keeps no state. Run 2, the same with
`skip_streams_without_dataset`: it succeeds, the other streams' bookmarks move on, `customers` gets no progress.
Run 3, with the entry: every customer the Stripe emulator holds lands in the profile dataset.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.generate_plugin_files import EMULATOR_DATASETS
from scripts.meltano_pipeline import MELTANO, REPO_ROOT, STATE_ID, LocalPipeline
from tests.pipeline.conftest import stripe_ids_by_object

pytestmark = pytest.mark.timeout(300)

SKIPPED = "customers"
PROFILE_DATASET = EMULATOR_DATASETS[SKIPPED]
SELECTED = (SKIPPED, "charges", "products")
ALL_DATASETS = {stream: {"dataset_id": dataset_id} for stream, dataset_id in EMULATOR_DATASETS.items()}


class UserProject(LocalPipeline):
    """The repository's Meltano project copied into a directory of its own, as a user's project would hold it.

    A copy, because a user's `datasets` block is what this is about, and Meltano merges the entries of an object
    setting from meltano.yml with any environment variable, so an entry cannot be taken away from outside. Its
    plugins install from this clone; its state lives in its own system database.
    """

    def __init__(self, workdir: Path, **options: Any) -> None:
        super().__init__(workdir, **options)
        self.project = workdir / "project"
        self.settings: dict[str, str] = {}

    def write_meltano_yml(self, datasets: dict[str, dict[str, str]]) -> None:
        project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
        project.pop("include_paths", None)
        for plugins in project["plugins"].values():
            for plugin in plugins:
                plugin["pip_url"] = f"-e {REPO_ROOT}"
        # A few streams keep the three runs short; one per dataset shows the others are not held back.
        project["plugins"]["extractors"][0]["select"] = [f"{stream}.*" for stream in SELECTED]
        local = next(env for env in project["environments"] if env["name"] == "local")
        local["config"]["plugins"]["loaders"][0]["config"]["datasets"] = datasets
        self.project.mkdir(parents=True, exist_ok=True)
        (self.project / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.settings}

    def meltano(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MELTANO, *args], cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def run_with(self, **settings: str) -> tuple[int, str]:
        self.settings = settings
        try:
            result = self.run()
        finally:
            self.settings = {}
        return result.returncode, result.log

    def saved_state(self) -> dict:
        """What Meltano's state backend holds for the pipeline ({} when nothing was saved)."""
        done = self.meltano("state", "get", STATE_ID)
        assert done.returncode == 0, done.stderr[-2000:]
        text = done.stdout.strip()
        return json.loads(text) if text else {}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserProject]:
    workdir: Path = tmp_path_factory.mktemp("stream-without-dataset")
    with UserProject(workdir, customers=12, seed=3) as project:
        project.write_meltano_yml({s: entry for s, entry in ALL_DATASETS.items() if s != SKIPPED})
        project.install()
        yield project


def bookmarks(state: dict) -> dict:
    return state.get("singer_state", {}).get("bookmarks", {})


def test_a_stream_without_dataset_is_read_again_once_it_has_one(project: UserProject) -> None:
    customers = {c["id"] for c in project.stripe_objects(SKIPPED)}
    assert customers, "the emulator holds no customers: the test would prove nothing"

    # Run 1: records for a stream with no destination fail the run; Meltano keeps no state at all.
    returncode, log = project.run_with()
    assert returncode != 0
    error = [line for line in log.splitlines() if "without an entry in the datasets setting" in line]
    assert error and SKIPPED in error[0] and "skip_streams_without_dataset" in error[0], log[-3000:]
    assert "Traceback" not in log
    assert bookmarks(project.saved_state()) == {}
    assert project.landed(PROFILE_DATASET) == []

    # Run 2: skipped on purpose; the other streams move on, customers keeps no bookmark past its records.
    returncode, log = project.run_with(TARGET_AEP_SKIP_STREAMS_WITHOUT_DATASET="true")
    assert returncode == 0, log[-3000:]
    saved = bookmarks(project.saved_state())
    # The tap may have written an empty partition for it before its first record: kept as it was, nothing more.
    assert all(set(p) <= {"context"} for p in saved.get(SKIPPED, {}).get("partitions", [])), saved[SKIPPED]
    assert all("events_since" in p for p in saved["charges"]["partitions"]), saved["charges"]
    assert project.landed(PROFILE_DATASET) == []
    assert "skipped 12 (no dataset: not sent, bookmark not advanced)" in log

    # Run 3: the user adds the entry; the skipped stream's whole history lands.
    project.write_meltano_yml(ALL_DATASETS)
    returncode, log = project.run_with()
    assert returncode == 0, log[-3000:]
    landed = project.landed(PROFILE_DATASET)
    assert stripe_ids_by_object(landed)["customer"] == customers
