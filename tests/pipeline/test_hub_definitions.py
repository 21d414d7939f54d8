"""The Meltano Hub definitions in hub/ install with `meltano add --from-ref` and describe the real plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).parent / "meltano")
pytestmark = pytest.mark.timeout(300)


def _meltano(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [MELTANO, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, MELTANO_SEND_ANONYMOUS_USAGE_STATS="false"),
    )
    assert done.returncode == 0, f"meltano {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.parametrize(("plugin_type", "name"), [("extractor", "tap-stripe-aep"), ("loader", "target-aep")])
def test_hub_definition_installs_and_matches_about(tmp_path: Path, plugin_type: str, name: str) -> None:
    definition = yaml.safe_load((REPO_ROOT / "hub" / f"{name}.yml").read_text())
    for key in (
        "name",
        "namespace",
        "variant",
        "pip_url",
        "executable",
        "repo",
        "capabilities",
        "settings",
        "settings_group_validation",
        "keywords",
        "maintenance_status",
    ):
        assert definition.get(key), f"hub/{name}.yml lacks {key}"
    assert "meltano_sdk" in definition["keywords"]

    # The published pip_url points at the public repository; a scratch project installs this checkout instead.
    local = dict(definition, pip_url=str(REPO_ROOT))
    ref = tmp_path / f"{name}.yml"
    ref.write_text(yaml.safe_dump(local))
    project = tmp_path / "scratch"
    _meltano(tmp_path, "init", "--no-usage-stats", str(project))
    _meltano(project, "add", plugin_type, name, "--from-ref", str(ref))
    about = json.loads(_meltano(project, "invoke", name, "--about", "--format", "json").stdout)

    assert about["name"] == name
    assert sorted(about["capabilities"]) == sorted(definition["capabilities"])
    assert {s["name"] for s in definition["settings"]} == set(about["settings"]["properties"])
    secrets = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    assert secrets == {"tap-stripe-aep": {"api_key"}, "target-aep": {"client_secret"}}[name]
