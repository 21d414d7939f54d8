"""Config checks run before any request and name the setting; wrong credentials fail clearly, secret unprinted."""

from __future__ import annotations

from pathlib import Path

import pytest
from singer_sdk.exceptions import ConfigValidationError

from target_aep.target import TargetAEP
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    CLIENT_SECRET,
    ORG_ID,
    datasets_setting,
    run_target,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(60)

GOOD = {
    "client_id": "id",
    "client_secret": "secret",
    "org_id": ORG_ID,
    "datasets": {"customers": {"dataset_id": "6650f0c0ffee000000000001"}},
}


def config_errors(config: dict) -> list[str]:
    with pytest.raises(ConfigValidationError) as raised:
        TargetAEP(config=config, validate_config=True)
    return raised.value.errors


def test_good_config_passes() -> None:
    TargetAEP(config=GOOD, validate_config=True)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_secret": None}, "client_secret"),
        ({"ingestion_mode": "bulk"}, "ingestion_mode"),
        ({"ingestion_mode": "streaming"}, "datasets.customers.inlet_id"),
        ({"datasets": {"customers": {"dataset_id": "not-an-id"}}}, "datasets.customers.dataset_id"),
        ({"platform_url": "platform.adobe.io"}, "platform_url"),
        ({"ims_url": "ftp://ims"}, "ims_url"),
        ({"max_rejected_share": 1.5}, "max_rejected_share"),
        ({"batch_max_records": 0}, "batch_max_records"),
        ({"mapping_workers": -1}, "mapping_workers"),
        ({"mapping_workers": 500}, "mapping_workers"),
    ],
)
def test_bad_config_names_the_setting(change: dict, setting: str) -> None:
    config = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    errors = config_errors(config)
    assert any(setting in error for error in errors), errors


def test_a_problem_shared_by_many_streams_is_said_once_naming_them() -> None:
    datasets = {stream: {"dataset_id": "6650f0c0ffee000000000002"} for stream in ("charges", "refunds", "payouts")}
    errors = config_errors({**GOOD, "datasets": datasets, "ingestion_mode": "streaming"})
    assert errors == [
        "datasets.<stream>.inlet_id is required with ingestion_mode 'streaming', "
        "for 3 streams: charges, refunds, payouts"
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"load_method": "overwrite"},
        {"load_method": "upsert"},
        {"add_record_metadata": True},
        {"batch_size_rows": 1000},
        {"validate_records": True},
        {"flattening_enabled": True},
        {"flattening_max_depth": 3},
    ],
)
def test_sdk_settings_that_would_do_nothing_are_refused_by_name(change: dict) -> None:
    """Accepted and ignored, `load_method: overwrite` would let a user believe the dataset is replaced."""
    (name,) = change
    errors = config_errors({**GOOD, **change})
    assert [e for e in errors if e.startswith(f"{name} is not supported by target-aep")], errors


def test_sdk_settings_set_to_what_the_target_does_anyway_are_accepted() -> None:
    # Earlier Hub definitions passed load_method's default; such projects must keep running.
    TargetAEP(
        config={**GOOD, "load_method": "append-only", "add_record_metadata": False, "flattening_enabled": False},
        validate_config=True,
    )


def test_about_offers_only_settings_that_work_with_defaults_and_descriptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    TargetAEP.print_about()
    text = capsys.readouterr().out
    for name in ("load_method", "add_record_metadata", "batch_size_rows", "validate_records", "flattening_enabled"):
        assert f"Name: {name}\n" not in text, name
    assert "schema-flattening" not in text
    assert "Name: stream_maps\n" in text  # the SDK applies stream maps before the XDM mapping
    ingestion_mode = text.split("Name: ingestion_mode\n", 1)[1].split("  - Name:", 1)[0]
    assert "Default: batch" in ingestion_mode
    assert "Description: 'batch' (Batch Ingestion API)" in ingestion_mode
    skip = text.split("Name: skip_streams_without_dataset\n", 1)[1].split("  - Name:", 1)[0]
    assert "Default: false" in skip and "bookmarks where they were" in skip


def test_output_dir_needs_no_credentials_but_a_tenant(tmp_path: Path) -> None:
    TargetAEP(config={"output_dir": str(tmp_path), "tenant_id": "acme"}, validate_config=True)
    assert any("tenant_id" in e for e in config_errors({"output_dir": str(tmp_path)}))


def test_secret_is_marked_secret() -> None:
    assert TargetAEP.config_jsonschema["properties"]["client_secret"].get("secret") is True


def test_wrong_credentials_fail_with_ims_message(aep: AEP, tmp_path: Path) -> None:
    wrong_secret = "definitely-wrong-secret-value"
    config = aep.config(
        tmp_path,
        client_secret=wrong_secret,
        datasets={"customers": {"dataset_id": "6650f0c0ffee000000000001"}},
    )
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode != 0
    assert "IMS refused the credentials" in run.stderr
    assert wrong_secret not in run.stderr + run.stdout
    assert CLIENT_SECRET not in run.stderr + run.stdout
    assert run.states == []


def test_unknown_dataset_fails_before_anything_is_sent(aep: AEP, tmp_path: Path) -> None:
    datasets = datasets_setting(streams_in(ALL_STREAMS))
    datasets["transfers"] = {"dataset_id": "6650f0c0ffee0000000000ff"}  # the last stream of the input
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets, batch_max_records=1)
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode != 0
    assert "datasets.transfers.dataset_id" in run.stderr
    assert "6650f0c0ffee0000000000ff" in run.stderr
    assert run.states == []
    assert aep.landed_counts() == before


def test_bad_mapping_override_fails_before_anything_is_sent(aep: AEP, tmp_path: Path) -> None:
    datasets = datasets_setting(streams_in(ALL_STREAMS))
    before = aep.landed_counts()
    mappings = {"transfers": {"fields": {"commerce.order.noSuchField": "amount"}}}
    config = aep.config(tmp_path, datasets=datasets, mappings=mappings, batch_max_records=1)
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 1
    assert "mappings.transfers" in run.stderr and "Traceback" not in run.stderr
    assert run.states == []
    assert aep.landed_counts() == before


@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_unwritable_dead_letter_path_fails_before_anything_is_sent(aep: AEP, tmp_path: Path, where: str) -> None:
    """Rejects must have somewhere to go: find out at start-up, not at the first reject mid-run."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    path = blocker / "rejected.jsonl" if where == "under_a_file" else tmp_path
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), dead_letter_path=str(path))
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 1
    assert "dead_letter_path" in run.stderr and str(path) in run.stderr
    assert "Traceback" not in run.stderr
    assert run.states == []
    assert aep.landed_counts() == before
