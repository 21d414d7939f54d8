"""Run the README's walk-through as written: a fresh `meltano init` project, the Hub definitions, the built wheel.

The commands are the fenced ``bash`` blocks between ``<!-- walkthrough:start -->`` and ``<!-- walkthrough:end -->``,
run as one bash script in a temporary folder. The emulators start from the ``python -m emulators...`` lines of the
``walkthrough:clone`` block, with the same flags. The only substitutions are what a reader's machine decides: the
clone's path, where the wheel was built (once per session, see ``conftest.py``), and the emulators' ports and
store folder (tests take free ports, since other suites may run at the same time).

The project it leaves is shared by the walk-through tests and the Hub-definition tests, so the expensive part
(fresh plugin virtual environments, first start-ups) happens once.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from emulators.launch import EmulatorProcess
from tests.pipeline.fresh_project import REPO_ROOT, Distribution, meltano_env

README = REPO_ROOT / "README.md"
CLONE_PLACEHOLDER = "/path/to/tap-stripe-aep"
STRIPE_ADDRESS = "http://127.0.0.1:12111"
AEP_ADDRESS = "http://127.0.0.1:12112"
PROJECT_DIR = "stripe-to-aep"
STATE_ID = "dev:tap-stripe-aep-to-target-aep"
SELECTED_STREAMS = ("customers", "charges", "products")


def readme_block(marker: str) -> str:
    """The fenced ``bash`` blocks between ``<!-- {marker}:start -->`` and ``<!-- {marker}:end -->``, joined."""
    match = re.search(rf"<!-- {marker}:start -->\n(.*?)<!-- {marker}:end -->", README.read_text(), re.DOTALL)
    assert match, f"README.md has no {marker} section"
    blocks = re.findall(r"^```bash\n(.*?)^```$", match.group(1), re.DOTALL | re.MULTILINE)
    assert blocks, f"README.md's {marker} section has no bash block"
    return "\n".join(blocks)


def clone_emulators(block: str, store: Path) -> dict[str, EmulatorProcess]:
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
    """Replace what the reader's machine decides; each must still be in the README, or this test is stale."""
    for placeholder, value in replacements.items():
        assert placeholder in script, f"the walk-through no longer mentions {placeholder}: update this test"
        script = script.replace(placeholder, value)
    return script


@dataclass
class Walkthrough:
    """What running the walk-through left: its output, the project, and both emulators' holdings."""

    script: str
    done: subprocess.CompletedProcess[str]
    project: Path
    stripe_objects: dict[str, list[dict[str, Any]]]
    landed: dict[str, list[dict[str, Any]]]

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


def run_walkthrough(workdir: Path, distribution: Distribution) -> Walkthrough:
    """Start the emulators, run the walk-through in ``workdir``, collect what each emulator holds, stop them."""
    clone_block = readme_block("walkthrough:clone")
    assert "python -m build" in clone_block.splitlines(), "the walk-through builds the wheel it installs"
    emulators = clone_emulators(clone_block, workdir / "aep-store")
    with emulators["stripe"] as stripe, emulators["aep"] as aep:
        script = fill_placeholders(
            readme_block("walkthrough"),
            {
                # The README's wheel is the one `python -m build` writes in the clone; this session built it elsewhere.
                f"$CLONE/dist/{distribution.wheel.name}": str(distribution.wheel),
                CLONE_PLACEHOLDER: str(REPO_ROOT),
                STRIPE_ADDRESS: stripe.url,
                AEP_ADDRESS: aep.url,
            },
        )
        done = subprocess.run(
            ["bash", "-euxo", "pipefail", "-c", script],
            cwd=workdir,
            env=meltano_env(),
            capture_output=True,
            text=True,
            timeout=500,
            check=False,
        )
        objects = {s: requests.get(f"{stripe.url}/_emulator/objects/{s}", timeout=30).json() for s in SELECTED_STREAMS}
        datasets_file = workdir / PROJECT_DIR / "datasets.json"
        datasets = json.loads(datasets_file.read_text()) if datasets_file.exists() else {}
        landed = {
            entry["dataset_id"]: requests.get(f"{aep.url}/_emulator/landed/{entry['dataset_id']}", timeout=30).json()
            for entry in datasets.values()
        }
    return Walkthrough(script, done, workdir / PROJECT_DIR, objects, landed)
