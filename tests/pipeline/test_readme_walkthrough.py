"""The README's walk-through, run as written: a fresh `meltano init` project lands data and keeps state.

The commands are read from the README's fenced ``bash`` blocks between ``<!-- walkthrough:start -->`` and
``<!-- walkthrough:end -->`` and run as one bash script in a temporary folder. The only substitutions are the
placeholders a reader fills in: the clone's path, and the emulators' fixed ports (tests use free ones, since
other suites may run at the same time). The emulators start from the commands of the
``walkthrough:emulators`` block, with the same flags.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.launch import EmulatorProcess
from tests.pipeline.conftest import stripe_ids_by_object
from tests.pipeline.fresh_project import REPO_ROOT, meltano_env, project_plugins

pytestmark = pytest.mark.timeout(420)

README = REPO_ROOT / "README.md"
CLONE_PLACEHOLDER = "/path/to/tap-stripe-aep"
STRIPE_ADDRESS = "http://127.0.0.1:12111"
AEP_ADDRESS = "http://127.0.0.1:12112"
PROJECT_DIR = "stripe-to-aep"
STATE_ID = "dev:tap-stripe-aep-to-target-aep"


def readme_block(marker: str) -> str:
    """The fenced ``bash`` blocks between ``<!-- {marker}:start -->`` and ``<!-- {marker}:end -->``, joined."""
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)<!-- {marker}:end -->", README.read_text(), re.DOTALL)
    assert match, f"README.md has no {marker} section"
    blocks = re.findall(r"^```bash\n(.*?)^```$", match.group(1), re.DOTALL | re.MULTILINE)
    assert blocks, f"README.md's {marker} section has no bash block"
    return "\n".join(blocks)


def emulator_commands(block: str, store: Path) -> dict[str, EmulatorProcess]:
    """The README's ``python -m emulators.<name> ...`` lines as emulator processes by name, on free ports."""
    emulators = {}
    for line in block.splitlines():
        if not line.startswith("python -m emulators."):
            continue
        args = shlex.split(line.rstrip("& "))
        module, flags = args[2], args[3:]
        flags[flags.index("--port") + 1] = "0"
        if "--store" in flags:
            flags[flags.index("--store") + 1] = str(store)
        emulators[module.removeprefix("emulators.")] = EmulatorProcess(module, flags)
    assert sorted(emulators) == ["aep", "stripe"], block
    return emulators


def fill_placeholders(script: str, replacements: dict[str, str]) -> str:
    for placeholder, value in replacements.items():
        assert placeholder in script, f"the walk-through no longer mentions {placeholder}: update this test"
        script = script.replace(placeholder, value)
    return script


@dataclass
class Walkthrough:
    """What running the walk-through left: its output, the project, and both emulators' holdings."""

    done: subprocess.CompletedProcess[str]
    project: Path
    stripe_objects: dict[str, list[dict[str, Any]]]
    landed: dict[str, list[dict[str, Any]]]

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkthrough]:
    workdir = tmp_path_factory.mktemp("walkthrough")
    emulators = emulator_commands(readme_block("walkthrough:emulators"), workdir / "aep-store")
    with emulators["stripe"] as stripe, emulators["aep"] as aep:
        script = fill_placeholders(
            readme_block("walkthrough"),
            {CLONE_PLACEHOLDER: str(REPO_ROOT), STRIPE_ADDRESS: stripe.url, AEP_ADDRESS: aep.url},
        )
        done = subprocess.run(
            ["bash", "-euxo", "pipefail", "-c", script],
            cwd=workdir,
            env=meltano_env(),
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        objects = {
            s: requests.get(f"{stripe.url}/_emulator/objects/{s}", timeout=30).json()
            for s in ("customers", "charges", "products")
        }
        datasets = json.loads((workdir / PROJECT_DIR / "datasets.json").read_text()) if done.returncode == 0 else {}
        landed = {
            entry["dataset_id"]: requests.get(f"{aep.url}/_emulator/landed/{entry['dataset_id']}", timeout=30).json()
            for entry in datasets.values()
        }
    yield Walkthrough(done, workdir / PROJECT_DIR, objects, landed)


def test_walkthrough_runs_to_the_end(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-8000:]


def test_project_holds_exactly_the_two_plugins_with_secrets_out_of_meltano_yml(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0
    assert project_plugins(walkthrough.project) == {"extractors": ["tap-stripe-aep"], "loaders": ["target-aep"]}
    project_file = (walkthrough.project / "meltano.yml").read_text()
    assert "sk_test_emulator" not in project_file and "emulator-client-secret" not in project_file
    dotenv = (walkthrough.project / ".env").read_text()
    assert "TAP_STRIPE_AEP_API_KEY=" in dotenv and "TARGET_AEP_CLIENT_SECRET=" in dotenv


def test_every_selected_object_landed_in_its_dataset_and_nothing_else(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0
    datasets = json.loads((walkthrough.project / "datasets.json").read_text())
    expected: dict[str, dict[str, set[str]]] = {}
    for stream, objects in walkthrough.stripe_objects.items():
        assert objects, f"the emulator holds no {stream}: the test would prove nothing"
        by_type = expected.setdefault(datasets[stream]["dataset_id"], {})
        by_type[str(objects[0]["object"])] = {o["id"] for o in objects}
    for dataset_id, by_type in expected.items():
        assert stripe_ids_by_object(walkthrough.landed[dataset_id]) == by_type, dataset_id


def test_state_holds_a_bookmark_per_selected_stream(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0
    assert STATE_ID in walkthrough.done.stdout.splitlines(), "meltano state list"
    (state_line,) = [line for line in walkthrough.done.stdout.splitlines() if line.startswith('{"singer_state"')]
    bookmarks = json.loads(state_line)["singer_state"]["bookmarks"]
    assert set(bookmarks) == {"customers", "charges", "products"}
    for stream, bookmark in bookmarks.items():
        (partition,) = bookmark["partitions"]
        assert partition["context"] == {"account_id": "acct_emulator_platform"}, stream
        assert partition["replication_key_value"], stream
