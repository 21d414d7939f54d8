"""The README's walk-through, run as written (see readme_walkthrough.py): a fresh `meltano init` project lands
every selected Stripe object in its dataset and keeps a bookmark per stream, with no edit beyond the documented ones.
"""

from __future__ import annotations

import json

import pytest

from tests.pipeline.conftest import stripe_ids_by_object
from tests.pipeline.readme_walkthrough import SELECTED_STREAMS, STATE_ID, Walkthrough

pytestmark = pytest.mark.timeout(600)


def test_walkthrough_runs_to_the_end(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-8000:]


def test_every_selected_object_landed_in_its_dataset_and_nothing_else(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-3000:]
    datasets = json.loads((walkthrough.project / "datasets.json").read_text())
    assert set(SELECTED_STREAMS) <= set(datasets), "target-aep-setup gives every selected stream a dataset"
    expected: dict[str, dict[str, set[str]]] = {}
    for stream, objects in walkthrough.stripe_objects.items():
        assert objects, f"the emulator holds no {stream}: the test would prove nothing"
        by_type = expected.setdefault(datasets[stream]["dataset_id"], {})
        by_type[str(objects[0]["object"])] = {o["id"] for o in objects}
    for dataset_id, by_type in expected.items():
        assert stripe_ids_by_object(walkthrough.landed[dataset_id]) == by_type, dataset_id


def test_state_holds_a_bookmark_per_selected_stream(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-3000:]
    assert STATE_ID in walkthrough.done.stdout.splitlines(), "meltano state list"
    (state_line,) = [line for line in walkthrough.done.stdout.splitlines() if line.startswith('{"singer_state"')]
    bookmarks = json.loads(state_line)["singer_state"]["bookmarks"]
    assert set(bookmarks) == set(SELECTED_STREAMS)
    for stream, bookmark in bookmarks.items():
        (partition,) = bookmark["partitions"]
        assert partition["context"] == {"account_id": "acct_emulator_platform"}, stream
        assert partition["replication_key_value"], stream


def test_secrets_stay_out_of_meltano_yml(walkthrough: Walkthrough) -> None:
    assert walkthrough.done.returncode == 0, walkthrough.output[-3000:]
    project_file = (walkthrough.project / "meltano.yml").read_text()
    assert "sk_test_emulator" not in project_file and "emulator-client-secret" not in project_file
    dotenv = (walkthrough.project / ".env").read_text()
    assert "TAP_STRIPE_AEP_API_KEY=" in dotenv and "TARGET_AEP_CLIENT_SECRET=" in dotenv
