"""The AEP clients on their own against the emulator: what DCS refuses comes back with AEP's message."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from target_aep.aep.batch_ingestion import POLL_FIRST_SECONDS, POLL_MAX_SECONDS, poll_wait
from target_aep.aep.errors import BatchFailedError, DatasetNotFoundError
from target_aep.aep.ims import IMSTokenProvider
from target_aep.dataset_batches import StreamPart
from target_aep.runtime import TargetRuntime
from target_aep.shared_buffer import TOTAL_BUFFER_BYTES
from tests.target.conftest import AEP, INLET_ID, XDM_DIR

pytestmark = pytest.mark.timeout(60)
CATALOG_DATASET = "6650f0c0ffee000000000003"


def runtime(aep: AEP, tmp_path: Path) -> TargetRuntime:
    datasets = {"products": {"dataset_id": CATALOG_DATASET, "inlet_id": INLET_ID}}
    return TargetRuntime(aep.config(tmp_path, datasets=datasets, ingestion_mode="streaming"))


def test_streaming_returns_dcs_rejections_with_aeps_message(aep: AEP, tmp_path: Path) -> None:
    rt = runtime(aep, tmp_path)
    dataset = rt.destination("products").dataset  # type: ignore[union-attr]
    assert dataset is not None and dataset.schema["$id"] == dataset.schema_id
    good = json.loads((XDM_DIR / "examples" / "stripe-catalog-record.json").read_text())
    good["_id"] = "client-test-good"
    bad = dict(good, _id="client-test-bad", notInSchema=1)
    rejections = rt.send_streaming(dataset, [rt.envelope(dataset, good), rt.envelope(dataset, bad)])
    assert [(r.index, r.status) for r in rejections] == [(1, 400)]
    assert "notInSchema" in rejections[0].message
    assert [r["_id"] for r in aep.landed(CATALOG_DATASET) if r["_id"].startswith("client-test")] == ["client-test-good"]


def test_failed_batch_raises_with_aeps_errors(aep: AEP, tmp_path: Path) -> None:
    rt = runtime(aep, tmp_path)
    dataset = rt.destination("products").dataset  # type: ignore[union-attr]
    assert dataset is not None
    aep.faults(fail_next_batches=1)
    with pytest.raises(BatchFailedError) as raised:
        part = StreamPart("products", [b'{"_id": "client-test-failed"}'], ["prod_failed"], 29, lambda _batch_id: None)
        rt.send_batch(dataset, [part])
    assert raised.value.status == "failed" and raised.value.errors
    assert "client-test-failed" not in {r["_id"] for r in aep.landed(CATALOG_DATASET)}
    # The batch failed as a whole: AEP's row errors name no row, and the message says so.
    assert "AEP named no refused row" in str(raised.value)
    assert not (tmp_path / "rejected.jsonl").exists()


def test_unknown_dataset_names_stream_and_setting(aep: AEP, tmp_path: Path) -> None:
    rt = TargetRuntime(aep.config(tmp_path, datasets={"products": {"dataset_id": "0" * 24}}))
    with pytest.raises(DatasetNotFoundError, match=r"stream 'products'.*datasets\.products\.dataset_id"):
        rt.destination("products")


def test_tenant_is_read_from_the_registry_when_not_configured(aep: AEP, tmp_path: Path) -> None:
    assert runtime(aep, tmp_path).tenant_id() == "acme"


def test_a_stale_401_does_not_throw_away_a_fresh_token(aep: AEP) -> None:
    """Threads refused by the same expired token renew it once: a later refusal of the old token keeps the new."""
    ims = IMSTokenProvider(
        ims_url=aep.url,
        client_id="emulator-client-id",
        client_secret="emulator-client-secret",
        scopes="openid,AdobeID",
        timeout=10,
    )
    first = ims.token()
    ims.invalidate(first)  # thread A: its call with `first` got a 401
    second = ims.token()  # thread A renews
    assert second != first
    ims.invalidate(first)  # thread B: its call, also made with `first`, got its 401 later
    assert ims.token() == second  # B uses A's renewal instead of asking IMS again
    ims.invalidate(second)
    assert ims.token() not in (first, second)
    assert {first, second} <= set(ims.secrets)  # every token of the run is scrubbed, not only the current one


def test_a_batch_is_seen_at_most_a_quarter_of_its_processing_time_after_it_ends() -> None:
    polls = [0.0]  # seconds after COMPLETE at which the status is asked
    while polls[-1] < 600:
        polls.append(polls[-1] + poll_wait(polls[-1]))
    for done in (0.3, 0.8, 2.5, 7.0, 19.0):
        seen = next(p for p in polls if p >= done)
        assert seen <= max(done * 1.25, POLL_FIRST_SECONDS), done
    assert max(b - a for a, b in itertools.pairwise(polls)) == POLL_MAX_SECONDS  # minutes-long batches: every 5 s
    assert len(polls) < 150  # over 10 minutes; waits growing by 1.6 made 130


@pytest.mark.parametrize(
    ("batch_max_bytes", "budget"),
    [(None, TOTAL_BUFFER_BYTES), (8 << 20, TOTAL_BUFFER_BYTES), (200 << 20, TOTAL_BUFFER_BYTES + (168 << 20))],
)
def test_the_shared_buffer_holds_at_least_one_batch_of_batch_max_bytes(
    aep: AEP, tmp_path: Path, batch_max_bytes: int | None, budget: int
) -> None:
    """A backfill that raises `batch_max_bytes` (docs/operations.md) gets batches that large: the streams' shared
    buffer, which drains a dataset whole once full, grows by as much as `batch_max_bytes` is raised (its default
    is 32 MB), so it never cuts a dataset's batch below the size set."""
    config = aep.config(tmp_path, datasets={"products": {"dataset_id": "0" * 24}})
    if batch_max_bytes is not None:
        config["batch_max_bytes"] = batch_max_bytes
    assert TargetRuntime(config).shared_buffer.budget == budget
