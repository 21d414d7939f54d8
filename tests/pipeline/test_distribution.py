"""The distribution builds (sdist, and the wheel from it) with complete metadata and exactly the files it needs."""

from __future__ import annotations

import re
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser

from tests.pipeline.fresh_project import REPO_ROOT, Distribution

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
# A Markdown link whose target is neither absolute nor an anchor: it would break on PyPI.
RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)[^)\s]+\)")


def _wheel_names(distribution: Distribution) -> list[str]:
    with zipfile.ZipFile(distribution.wheel) as wheel:
        return wheel.namelist()


def _wheel_text(distribution: Distribution, suffix: str) -> str:
    with zipfile.ZipFile(distribution.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(suffix)]
        return wheel.read(name).decode()


def _metadata(distribution: Distribution) -> Message:
    return Parser().parsestr(_wheel_text(distribution, ".dist-info/METADATA"))


def test_wheel_holds_both_plugins_their_shared_package_and_every_stream_schema(distribution: Distribution) -> None:
    names = _wheel_names(distribution)
    top_level = {name.split("/")[0] for name in names}
    dist_info = f"{PROJECT['name'].replace('-', '_')}-{PROJECT['version']}.dist-info"
    assert top_level == {"tap_stripe_aep", "target_aep", "stripe_aep_shared", dist_info}, sorted(top_level)
    schemas = {p.name for p in (REPO_ROOT / "tap_stripe_aep" / "schemas").glob("*.json")}
    assert len(schemas) >= 22
    assert {n.rsplit("/", 1)[1] for n in names if n.startswith("tap_stripe_aep/schemas/")} >= schemas
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    entry_points = _wheel_text(distribution, ".dist-info/entry_points.txt")
    assert "tap-stripe-aep = tap_stripe_aep.tap:TapStripeAEP.cli" in entry_points
    assert "target-aep = target_aep.target:TargetAEP.cli" in entry_points


def test_wheel_metadata_is_complete(distribution: Distribution) -> None:
    metadata = _metadata(distribution)
    assert metadata["Name"] == PROJECT["name"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    assert f"{metadata['Name'].replace('-', '_')}-{metadata['Version']}.dist-info/licenses/LICENSE" in (
        _wheel_names(distribution)
    )
    assert metadata["Author"]
    assert metadata["Requires-Python"]
    assert "meltano_sdk" in metadata["Keywords"].split(",")
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "PEP 639: the license expression says it"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues", "Documentation"} <= set(urls)

    assert metadata["Description-Content-Type"] == "text/markdown"
    description = metadata.get_payload()
    assert isinstance(description, str)
    assert description.startswith("# tap-stripe-aep and target-aep")
    assert "## Settings" in description or "### Settings" in description
    assert not RELATIVE_LINK.findall(description), "relative links break on PyPI"
    assert f"]({urls['Repository']}/blob/main/docs/aep-setup.md)" in description


def test_sdist_holds_sources_and_tests_but_no_local_state(distribution: Distribution) -> None:
    with tarfile.open(distribution.sdist) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    for required in ("pyproject.toml", "README.md", "LICENSE", "tap_stripe_aep/schemas/customers.json"):
        assert required in names, required
    for folder in ("tests/", "emulators/", "xdm/", "hub/"):
        assert any(n.startswith(folder) for n in names), folder
    local = [n for n in names if n.split("/")[0] in {".venv", ".demo", ".bench", ".meltano", ".git", "dist", "output"}]
    assert not local, local[:5]
    assert not [n for n in names if "__pycache__" in n]
