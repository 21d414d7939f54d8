"""Fixtures for end-to-end runs: Stripe emulator -> tap -> target -> AEP emulator."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft6Validator, FormatChecker

from scripts.generate_plugin_files import EMULATOR_DATASETS
from tests.pipeline.fresh_project import Distribution, build_distribution
from tests.pipeline.readme_walkthrough import Walkthrough, run_walkthrough

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILES = {
    "6650f0c0ffee000000000001": "stripe-customer-profile.schema.json",
    "6650f0c0ffee000000000002": "stripe-commerce-event.schema.json",
    "6650f0c0ffee000000000003": "stripe-catalog-record.schema.json",
}
# Streams compared object by object with the Stripe emulator's holdings. `events` is Stripe's own log of
# changes, not an object list the emulator dumps.
COMPARED_STREAMS = [s for s in EMULATOR_DATASETS if s != "events"]


@pytest.fixture(scope="session")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    """The sdist and wheel of this checkout, built once per session for every test that installs them."""
    return build_distribution(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def walkthrough(tmp_path_factory: pytest.TempPathFactory, distribution: Distribution) -> Walkthrough:
    """The README walk-through's fresh Meltano project, run once: its plugins come from hub/ and the built wheel."""
    return run_walkthrough(tmp_path_factory.mktemp("walkthrough"), distribution)


@pytest.fixture(scope="session")
def xdm_validators() -> dict[str, Draft6Validator]:
    """The reference validator per dataset, from the checked-in copies of the XDM schemas."""
    validators = {}
    for dataset_id, file_name in SCHEMA_FILES.items():
        schema = json.loads((REPO_ROOT / "xdm" / file_name).read_text())
        validators[dataset_id] = Draft6Validator(schema, format_checker=FormatChecker())
    return validators


def stripe_ids_by_object(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Landed XDM records grouped as Stripe object type -> Stripe ids (from the tenant field group)."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for record in records:
        stripe = record["_acme"]["stripe"]
        grouped[stripe["objectType"]].add(stripe["id"])
    return grouped


def assert_valid_xdm(validator: Draft6Validator, records: list[dict[str, Any]]) -> None:
    for record in records:
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(record)]
        assert not errors, (record.get("_id"), errors)
