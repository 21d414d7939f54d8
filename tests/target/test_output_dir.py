"""output_dir mode: XDM lines written locally, no credentials; and the SDK's standard target suite."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from jsonschema import Draft6Validator, FormatChecker
from singer_sdk.testing import SuiteConfig, get_target_test_class

from target_aep.target import TargetAEP
from tests.target.conftest import (
    ALL_STREAMS,
    SCHEMA_FILE_BY_DATASET,
    XDM_DIR,
    dataset_for,
    dataset_schema,
    datasets_setting,
    run_target,
    singer_messages,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(60)
LOCAL_SCHEMAS = {dataset_id: str(XDM_DIR / name) for dataset_id, name in SCHEMA_FILE_BY_DATASET.items()}


def test_output_dir_writes_valid_xdm_per_dataset_without_credentials(tmp_path: Path) -> None:
    out = tmp_path / "out"
    streams = [s for s in streams_in(ALL_STREAMS) if s != "events"]  # events: no dataset, no schema -> skipped
    config = {
        "output_dir": str(out),
        "tenant_id": "acme",
        "datasets": datasets_setting(streams),
        "local_schemas": LOCAL_SCHEMAS,
        "dead_letter_path": str(tmp_path / "rejected.jsonl"),
        "report_path": str(tmp_path / "report.html"),
        "repairs_path": str(tmp_path / "repairs.jsonl"),
        "skip_streams_without_dataset": True,
    }
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states
    assert "Stream 'events' has no schema in output_dir mode" in run.stderr
    assert "events" not in run.states[-1]["bookmarks"]  # its records were not written: no bookmark past them

    expected: dict[str, list[str]] = {}
    for message in singer_messages(ALL_STREAMS):
        if message["type"] == "RECORD" and message["stream"] in streams:
            expected.setdefault(dataset_for(message["stream"]), []).append(message["record"]["id"])
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d}.jsonl" for d in expected)
    for dataset_id, ids in expected.items():
        lines = [json.loads(line) for line in (out / f"{dataset_id}.jsonl").read_text().splitlines()]
        assert sorted(r["_acme"]["stripe"]["id"] for r in lines) == sorted(ids)  # plans share ids with prices
        validator = Draft6Validator(dataset_schema(dataset_id), format_checker=FormatChecker())
        for record in lines:
            assert not list(validator.iter_errors(record)), record["_id"]

    # A second run (a repeated dry run) writes the same files again, not twice the records.
    first = {p.name: sorted(p.read_text().splitlines()) for p in out.iterdir()}
    again = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p.name: sorted(p.read_text().splitlines()) for p in out.iterdir()} == first


# The SDK's standard suite, in output_dir mode with every stream mapped as a catalog record ("*").
SUITE_DIR = Path(tempfile.mkdtemp(prefix="target-aep-sdk-suite-"))
STANDARD_CONFIG = {
    "output_dir": str(SUITE_DIR),
    "tenant_id": "acme",
    "local_schemas": {"*": str(XDM_DIR / "stripe-catalog-record.schema.json")},
    "dead_letter_path": str(SUITE_DIR / "rejected.jsonl"),
    "report_path": str(SUITE_DIR / "report.html"),
    "repairs_path": str(SUITE_DIR / "repairs.jsonl"),
}
StandardTargetTests = get_target_test_class(
    TargetAEP, config=STANDARD_CONFIG, suite_config=SuiteConfig(max_records_limit=100)
)


class TestTargetAEPStandard(StandardTargetTests):  # type: ignore[misc, valid-type]
    """SDK standard tests; the one whose expectation we change on purpose is skipped with the reason."""

    @pytest.mark.skip(
        reason="by design a record missing its key property goes to the dead-letter file and the run goes on, "
        "instead of the SDK's MissingKeyPropertiesError; test_batch_delivery checks the dead letter"
    )
    def test_target_record_missing_key_property(self) -> None:
        pass
