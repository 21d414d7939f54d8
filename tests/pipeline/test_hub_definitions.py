"""The Meltano Hub definitions in hub/, as a Hub user meets them: added to a fresh `meltano init` project with
Meltano's documented form, installed by their published `pip_url` (the PyPI name), run end to end.

Until the distribution is on PyPI, the installer finds it as the wheel this checkout builds: uv (Meltano's venv
backend) is given the wheel's folder through ``UV_FIND_LINKS``, so the definitions are added exactly as
published and the name in their `pip_url` must resolve to a distribution that provides the plugin.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from emulators.launch import aep_emulator, stripe_emulator
from scripts.generate_plugin_files import EMULATOR_DATASETS, EMULATOR_INLET
from tests.pipeline.conftest import COMPARED_STREAMS, stripe_ids_by_object
from tests.pipeline.fresh_project import (
    REPO_ROOT,
    Distribution,
    meltano,
    meltano_env,
    plugin_executable,
    project_plugins,
)

pytestmark = pytest.mark.timeout(300)

PLUGINS = {"extractors": "tap-stripe-aep", "loaders": "target-aep"}
DISTRIBUTION_NAME = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["name"]


def _definition(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / "hub" / f"{name}.yml").read_text())


@dataclass
class HubProject:
    """A fresh project with both plugins added from hub/, and the one `meltano run` made in it."""

    path: Path
    run: subprocess.CompletedProcess[str]
    stripe_objects: dict[str, list[dict]]
    landed: dict[str, list[dict]]


@pytest.fixture(scope="module")
def hub_project(tmp_path_factory: pytest.TempPathFactory, distribution: Distribution) -> Iterator[HubProject]:
    workdir = tmp_path_factory.mktemp("hub-project")
    install_env = meltano_env(UV_FIND_LINKS=str(distribution.wheel.parent))
    meltano(workdir, "init", "--no-usage-stats", "project", env=install_env)
    project = workdir / "project"
    for plugin_type, name in PLUGINS.items():
        # The form Meltano documents: the type as an option. A bare `extractor` argument is read as a plugin name.
        ref = REPO_ROOT / "hub" / f"{name}.yml"
        meltano(project, "add", "--plugin-type", plugin_type, name, "--from-ref", str(ref), env=install_env)

    with stripe_emulator(customers=20, seed=5) as stripe, aep_emulator(store=workdir / "aep-store") as aep:
        datasets = {s: {"dataset_id": ds, "inlet_id": EMULATOR_INLET} for s, ds in EMULATOR_DATASETS.items()}
        run_env = meltano_env(
            TAP_STRIPE_AEP_API_KEY="sk_test_emulator_0000000000000000",
            TAP_STRIPE_AEP_API_URL=stripe.url,
            TARGET_AEP_CLIENT_ID="emulator-client-id",
            TARGET_AEP_CLIENT_SECRET="emulator-client-secret",
            TARGET_AEP_ORG_ID="EMULATOR0000000000000001@AdobeOrg",
            TARGET_AEP_IMS_URL=aep.url,
            TARGET_AEP_PLATFORM_URL=aep.url,
            TARGET_AEP_DATASETS=json.dumps(datasets),
        )
        run = meltano(project, "run", "tap-stripe-aep", "target-aep", env=run_env)
        objects = {
            stream: requests.get(f"{stripe.url}/_emulator/objects/{stream}", timeout=30).json()
            for stream in COMPARED_STREAMS
        }
        landed = {
            ds: requests.get(f"{aep.url}/_emulator/landed/{ds}", timeout=30).json()
            for ds in set(EMULATOR_DATASETS.values())
        }
    yield HubProject(project, run, objects, landed)


@pytest.mark.parametrize("name", PLUGINS.values())
def test_hub_definition_is_complete_and_installs_by_its_pypi_name(name: str) -> None:
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
    # Hub users install packages by name from PyPI: one distribution holds both plugins.
    assert definition["pip_url"] == DISTRIBUTION_NAME


def test_project_holds_exactly_the_two_plugins(hub_project: HubProject) -> None:
    assert project_plugins(hub_project.path) == {"extractors": ["tap-stripe-aep"], "loaders": ["target-aep"]}
    added = yaml.safe_load((hub_project.path / "meltano.yml").read_text())["plugins"]
    for plugin_type, name in PLUGINS.items():
        (plugin,) = added[plugin_type]
        assert plugin["pip_url"] == _definition(name)["pip_url"], "the definition was added as published"


@pytest.mark.parametrize(("plugin_type", "name"), PLUGINS.items())
def test_installed_plugin_is_the_built_wheel_and_matches_its_definition(
    hub_project: HubProject, tmp_path: Path, plugin_type: str, name: str
) -> None:
    executable = plugin_executable(hub_project.path, plugin_type, name)
    # Run from an empty folder: the plugin must load (settings, schemas) from its installed package alone.
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

    package = {"tap-stripe-aep": "tap_stripe_aep", "target-aep": "target_aep"}[name]
    where = subprocess.run(
        [str(executable.parent / "python"), "-c", f"import {package}; print({package}.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(hub_project.path / ".meltano")), f"{package} loads from {where}, not the wheel"


def test_run_lands_every_stripe_object_in_its_dataset(hub_project: HubProject) -> None:
    assert "Run completed" in hub_project.run.stderr + hub_project.run.stdout
    for stream in COMPARED_STREAMS:
        objects = hub_project.stripe_objects[stream]
        assert objects, f"the emulator holds no {stream}: the test would prove nothing"
        landed = stripe_ids_by_object(hub_project.landed[EMULATOR_DATASETS[stream]])
        expected = {o["id"] for o in objects}
        missing = expected - landed[str(objects[0]["object"])]
        assert not missing, f"{stream}: {len(missing)} of {len(expected)} not landed, e.g. {sorted(missing)[:3]}"
