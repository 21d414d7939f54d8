"""A user's own Meltano project, made from scratch: the built distribution, Meltano's environment, the result.

Building the distribution and installing plugins into fresh virtual environments are the expensive parts, so
the distribution is built once per session and one fresh project serves both the README walk-through tests and
the Hub-definition tests (see ``conftest.py`` and ``readme_walkthrough.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from uv import find_uv_bin

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Distribution:
    """The sdist and the wheel built from it (so the wheel proves the sdist is complete)."""

    sdist: Path
    wheel: Path


def build_distribution(out_dir: Path) -> Distribution:
    """``uv build``: the sdist, then the wheel from the unpacked sdist, through the project's own build backend."""
    done = subprocess.run(
        [find_uv_bin(), "build", "--out-dir", str(out_dir), str(REPO_ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"uv build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (sdist,) = out_dir.glob("*.tar.gz")
    (wheel,) = out_dir.glob("*.whl")
    return Distribution(sdist=sdist, wheel=wheel)


def meltano_env(**variables: str) -> dict[str, str]:
    """The environment of a Meltano command run as a user would: Meltano on PATH, no usage stats."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_STRIPE_AEP_", "TARGET_AEP_", "MELTANO_"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        NO_COLOR="1",
    )
    env.update(variables)
    return env


def project_plugins(project: Path) -> dict[str, list[str]]:
    """Plugin type -> plugin names, as the project's meltano.yml declares them."""
    definition: dict[str, Any] = yaml.safe_load((project / "meltano.yml").read_text())
    return {kind: [p["name"] for p in plugins] for kind, plugins in (definition.get("plugins") or {}).items()}


def plugin_executable(project: Path, plugin_type: str, name: str) -> Path:
    """The executable Meltano installed for a plugin, in the plugin's own virtual environment."""
    return project / ".meltano" / plugin_type / name / "venv" / "bin" / name
