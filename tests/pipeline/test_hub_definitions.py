"""The Meltano Hub definitions in hub/, as a user meets them.

The fresh project is the README walk-through's (see readme_walkthrough.py, shared so that the expensive installs
happen once per session): `meltano init`, both plugins added from hub/ with Meltano's documented form
(`meltano add --plugin-type extractor ... --from-ref <path>`), installed from the wheel this checkout builds, run
against the emulators (what landed is checked in test_readme_walkthrough.py). Here: the definitions are complete,
their `pip_url` is the distribution's PyPI name, and the project holds exactly what they describe, installed from
the wheel.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.pipeline.fresh_project import REPO_ROOT, Distribution, plugin_executable, project_plugins
from tests.pipeline.readme_walkthrough import Walkthrough

pytestmark = pytest.mark.timeout(600)

PLUGINS = {"extractors": "tap-stripe-aep", "loaders": "target-aep"}
PACKAGES = {"tap-stripe-aep": "tap_stripe_aep", "target-aep": "target_aep"}
DISTRIBUTION_NAME = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["name"]


def _definition(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "hub" / f"{name}.yml").read_text())


@pytest.mark.parametrize("name", PLUGINS.values())
def test_hub_definition_is_complete_and_installs_by_its_pypi_name(name: str, distribution: Distribution) -> None:
    definition = _definition(name)
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
    # Hub users install packages by name from PyPI: the name of the one distribution that holds both plugins,
    # whose wheel provides the definition's executable.
    assert definition["pip_url"] == DISTRIBUTION_NAME
    with zipfile.ZipFile(distribution.wheel) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert f"Name: {definition['pip_url']}\n" in wheel.read(metadata).decode()
        assert f"\n{definition['executable']} = " in wheel.read(entry_points).decode()


def test_project_holds_exactly_the_two_plugins_as_defined(walkthrough: Walkthrough, distribution: Distribution) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-3000:]
    # Any extra plugin (`meltano add extractor tap-stripe-aep` adds a utility named `extractor`) fails here.
    assert project_plugins(walkthrough.project) == {"extractors": ["tap-stripe-aep"], "loaders": ["target-aep"]}
    added = yaml.safe_load((walkthrough.project / "meltano.yml").read_text())["plugins"]
    for plugin_type, name in PLUGINS.items():
        (plugin,) = added[plugin_type]
        definition = _definition(name)
        for key in ("namespace", "variant", "executable", "capabilities", "settings_group_validation"):
            assert plugin[key] == definition[key], (name, key)
        assert [s["name"] for s in plugin["settings"]] == [s["name"] for s in definition["settings"]], name
        # The one documented change until the package is on PyPI: pip_url names the wheel.
        assert plugin["pip_url"] == str(distribution.wheel), name


@pytest.mark.parametrize(("plugin_type", "name"), PLUGINS.items())
def test_installed_plugin_is_the_built_wheel_and_matches_its_definition(
    walkthrough: Walkthrough, tmp_path: Path, plugin_type: str, name: str
) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-3000:]
    executable = plugin_executable(walkthrough.project, plugin_type, name)
    # From an empty folder: the plugin must load from its installed package alone, not from this checkout.
    about = subprocess.run(
        [str(executable), "--about", "--format", "json"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    about_json = json.loads(about.stdout)
    definition = _definition(name)
    assert about_json["name"] == name
    assert sorted(about_json["capabilities"]) == sorted(definition["capabilities"])
    assert {s["name"] for s in definition["settings"]} == set(about_json["settings"]["properties"])
    secrets = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    assert secrets == {"tap-stripe-aep": {"api_key"}, "target-aep": {"client_secret"}}[name]

    package = PACKAGES[name]
    where = subprocess.run(
        [str(executable.parent / "python"), "-c", f"import {package}; print({package}.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(walkthrough.project / ".meltano")), f"{package} loads from {where}, not the wheel"
