"""From an empty sandbox: the plan lists everything and writes nothing; `--apply` creates it; a second `--apply`
writes nothing; the target then lands every stream, valid against the schemas set-up created."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from jsonschema import Draft6Validator, FormatChecker

from emulators.aep.store import read_landed
from target_aep.setup.desired import Names, default_routing
from target_aep.setup.platform_api import SetupApi
from target_aep.xdm.stripe_fields import STREAM_OBJECT_TYPES, TENANT_FIELDS
from tests.setup.conftest import AEP, REPO, SetupRun, run_setup

pytestmark = pytest.mark.timeout(120)

NAMES = Names()
SCHEMAS = {
    NAMES.profile_schema: "stripe-customer-profile.schema.json",
    NAMES.event_schema: "stripe-commerce-event.schema.json",
    NAMES.record_schema: "stripe-catalog-record.schema.json",
}
DATASETS = {"profile": NAMES.profile_dataset, "experienceevent": NAMES.event_dataset, "record": NAMES.record_dataset}
SAMPLES = REPO / "tests" / "data_files" / "stripe_all_streams.singer"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"


def _plan_actions(run: SetupRun) -> dict[tuple[str, str], str]:
    names = [
        ("identity namespace", "StripeCustomerId"),
        ("class", NAMES.record_class),
        ("field group", NAMES.field_group),
        *(("schema", title) for title in SCHEMAS),
        ("Profile", NAMES.profile_schema),
        ("Profile", NAMES.event_schema),
        *(("dataset", name) for name in DATASETS.values()),
    ]
    return {(kind, name): run.step(kind, name).split()[0] for kind, name in names}


def test_the_plan_lists_everything_and_changes_nothing(aep: AEP, tmp_path: Path) -> None:
    before = len(aep.requests_log())
    aep.faults(rate_limit_next=1, unavailable_next=1)  # retried like the target's own calls

    run = run_setup(aep.config(tmp_path, "plan"))

    assert run.returncode == 0, run.stderr
    assert [r["status"] for r in aep.requests_log()[before:]][:3] == [429, 503, 200]
    assert set(_plan_actions(run).values()) == {"create"}, run.stdout
    assert "Nothing was changed; run again with --apply" in run.stdout
    assert aep.writes("plan", before) == []


class Provisioned:
    """The `prod` sandbox after one `--apply`, and what a second `--apply` did."""

    def __init__(self, aep: AEP, workdir: Path) -> None:
        self.config = aep.config(workdir, "prod")
        self.datasets_out = workdir / "datasets.json"
        start = len(aep.requests_log())
        self.first = run_setup(self.config, "--apply", "--datasets-out", str(self.datasets_out))
        self.first_writes = aep.writes("prod", start)
        self.sandboxes_touched = {r["sandbox"] for r in aep.requests_log()[start:]}
        api = aep.api("prod")
        self.datasets_after_first = {role: api.datasets_named(name) for role, name in DATASETS.items()}
        middle = len(aep.requests_log())
        self.second = run_setup(self.config, "--apply")
        self.second_writes = aep.writes("prod", middle)
        self.datasets = json.loads(self.datasets_out.read_text()) if self.datasets_out.exists() else {}


@pytest.fixture(scope="module")
def provisioned(aep: AEP, tmp_path_factory: pytest.TempPathFactory) -> Provisioned:
    return Provisioned(aep, tmp_path_factory.mktemp("provisioned"))


def test_apply_creates_every_resource(aep: AEP, provisioned: Provisioned) -> None:
    assert provisioned.first.returncode == 0, provisioned.first.stderr
    assert "Ready: sandbox 'prod'" in provisioned.first.stdout
    assert provisioned.sandboxes_touched == {"prod"}, "a request went outside the configured sandbox"
    api = aep.api("prod")

    namespaces = {n["code"]: n for n in api.namespaces()}
    assert namespaces["StripeCustomerId"]["idType"].replace("_", "").upper() == "CROSSDEVICE"

    [group] = api.find_resources("fieldgroups", NAMES.field_group)
    stored = api.resource("fieldgroups", group["$id"])
    fields = stored["definitions"]["stripeObjectDetails"]["properties"]["_acme"]["properties"]["stripe"]["properties"]
    assert list(fields) == [f.name for f in TENANT_FIELDS]

    for title in SCHEMAS:
        [schema] = api.find_resources("schemas", title)
        assert "union" in (api.resource("schemas", schema["$id"]).get("meta:immutableTags") or []) or (
            title == NAMES.record_schema
        ), f"{title} is not enabled for Profile"

    for role in DATASETS:
        [(dataset_id, dataset)] = provisioned.datasets_after_first[role].items()
        assert provisioned.datasets[default_routing()[role][0]]["dataset_id"] == dataset_id
        tags = dataset.get("tags") or {}
        assert ("unifiedProfile" in tags) == (role != "record"), (role, tags)


def test_created_schemas_resolve_to_the_schemas_the_target_is_built_for(aep: AEP, provisioned: Provisioned) -> None:
    api = aep.api("prod")
    for title, fixture_file in SCHEMAS.items():
        [found] = api.find_resources("schemas", title)
        resolved = aep_schema(api, found["$id"])
        fixture = json.loads((REPO / "xdm" / fixture_file).read_text())
        assert resolved["properties"] == fixture["properties"], title
        assert resolved.get("required") == fixture.get("required"), title


def aep_schema(api: SetupApi, schema_id: str) -> dict:
    """The schema resolved as ingestion validates against it (`xed-full`)."""
    quoted = urllib.parse.quote(schema_id, safe="")
    return api.gateway.request(
        "GET",
        f"/data/foundation/schemaregistry/tenant/schemas/{quoted}",
        what="resolved schema",
        headers={"Accept": XED_FULL},
    ).json()


def test_datasets_out_routes_every_stream_to_its_dataset(provisioned: Provisioned) -> None:
    routing = default_routing()
    assert set(provisioned.datasets) == {s for streams in routing.values() for s in streams}
    for role, streams in routing.items():
        ids = {provisioned.datasets[s]["dataset_id"] for s in streams}
        assert len(ids) == 1, role
        assert all(set(provisioned.datasets[s]) == {"dataset_id"} for s in streams)
    assert len({provisioned.datasets[streams[0]]["dataset_id"] for streams in routing.values()}) == 3


def test_a_second_apply_writes_nothing(provisioned: Provisioned) -> None:
    assert provisioned.first_writes, "the first apply wrote nothing: the request log proves nothing"
    assert provisioned.second.returncode == 0, provisioned.second.stderr
    assert "Nothing to do" in provisioned.second.stdout
    assert provisioned.second_writes == []


def test_the_target_lands_every_stream_valid_against_the_created_schemas(
    aep: AEP, provisioned: Provisioned, tmp_path: Path
) -> None:
    config = json.loads(provisioned.config.read_text())
    config["datasets"] = provisioned.datasets
    config_path = tmp_path / "target.json"
    config_path.write_text(json.dumps(config))
    messages = [json.loads(line) for line in SAMPLES.read_text().splitlines() if line.strip()]
    sent = Counter(m["stream"] for m in messages if m["type"] == "RECORD")

    done = subprocess.run(
        [sys.executable, "-m", "target_aep.target", "--config", str(config_path)],
        input=SAMPLES.read_text(),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=90,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert not Path(config["dead_letter_path"]).exists() or not Path(config["dead_letter_path"]).read_text()
    api = aep.api("prod")
    landed_streams: Counter[tuple[str, str]] = Counter()
    for dataset_id in {entry["dataset_id"] for entry in provisioned.datasets.values()}:
        dataset = api.gateway.request("GET", f"/data/foundation/catalog/dataSets/{dataset_id}", what="ds").json()
        schema = aep_schema(api, dataset[dataset_id]["schemaRef"]["id"])
        validator = Draft6Validator(schema, format_checker=FormatChecker())
        for record in read_landed(aep.store, dataset_id):
            assert not list(validator.iter_errors(record)), record["_id"]
            # Two streams can share an object type and a dataset (balance transactions, and the same ones
            # paired with their payout): count what landed by (object type, dataset).
            landed_streams[(record["_acme"]["stripe"]["objectType"], dataset_id)] += 1
    expected: Counter[tuple[str, str]] = Counter()
    for stream, count in sent.items():
        expected[(STREAM_OBJECT_TYPES[stream], provisioned.datasets[stream]["dataset_id"])] += count
    assert landed_streams == expected
