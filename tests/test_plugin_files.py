"""meltano.yml, hub/*.yml and the README settings tables agree with the plugins' config schemas."""

from __future__ import annotations

import yaml

from scripts import generate_plugin_files as plugin_files
from tap_stripe_aep.tap import TapStripeAEP
from target_aep.target import TargetAEP


def test_generated_plugin_files_are_up_to_date() -> None:
    drifted = [
        str(path.relative_to(plugin_files.REPO_ROOT))
        for path, content in plugin_files.rendered_files().items()
        if not path.exists() or path.read_text() != content
    ]
    assert not drifted, f"run `make plugin-files`: {drifted} differ from the config schemas"


def test_meltano_yml_declares_every_setting_and_marks_secrets() -> None:
    project = yaml.safe_load((plugin_files.REPO_ROOT / "meltano.yml").read_text())
    plugins = {p["name"]: p for kind in project["plugins"].values() for p in kind}
    for cls, secrets in ((TapStripeAEP, {"api_key"}), (TargetAEP, {"client_secret"})):
        declared = {s["name"]: s for s in plugins[cls.name]["settings"]}
        assert set(declared) == set(plugin_files.own_config_schema(cls)["properties"])
        assert {name for name, s in declared.items() if s.get("sensitive")} == secrets
        assert plugins[cls.name]["pip_url"] == "-e ."
    assert project["jobs"] == [{"name": "stripe-to-aep", "tasks": ["tap-stripe-aep target-aep"]}]
    assert {env["name"] for env in project["environments"]} == {"local", "production"}


def test_readme_tables_name_every_setting() -> None:
    readme = (plugin_files.REPO_ROOT / "README.md").read_text()
    for cls in (TapStripeAEP, TargetAEP):
        start = readme.index(f"<!-- settings:{cls.name}:start -->")
        end = readme.index(f"<!-- settings:{cls.name}:end -->")
        table = readme[start:end]
        for name in plugin_files.own_config_schema(cls)["properties"]:
            assert f"| `{name}` |" in table, f"{name} missing from the {cls.name} settings table"
