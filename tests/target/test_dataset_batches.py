"""Batch mode: a drain's batches of one dataset's streams go to AEP as one batch, each stream in its own files.

What AEP's guardrail asks (few large batches) without losing what a batch per stream gave: STATE only after
acceptance, a stream's records in order, and every record of a failed or partly refused batch reported with its
stream and Stripe id. The batches and their files are counted from the emulator's request log (each ``PUT`` of a
file names its batch), not from what the target says it did.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import typing as t
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from target_aep.dataset_batches import DatasetBatches, StreamPart, split_by_bytes
from target_aep.delivery_queue import DeliveryQueue
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    DATASET_BY_CLASS,
    REPO,
    SCHEMA_FILE_BY_DATASET,
    TargetRun,
    dataset_for,
    datasets_setting,
    run_target,
    singer_messages,
    singer_text,
    streams_in,
)

pytestmark = pytest.mark.timeout(90)
EVENTS = DATASET_BY_CLASS["experienceevent"]
_FILE_PUT = re.compile(r"^/data/foundation/import/batches/([^/]+)/datasets/([^/]+)/files/(.+)$")


def records() -> list[dict]:
    return [m for m in singer_messages(ALL_STREAMS) if m["type"] == "RECORD"]


def records_per_stream() -> Counter[str]:
    return Counter(m["stream"] for m in records())


def streams_of(dataset_id: str) -> set[str]:
    return {stream for stream in records_per_stream() if dataset_for(stream) == dataset_id}


def forget_requests(aep: AEP) -> None:
    requests.post(f"{aep.url}/_emulator/requests/reset", timeout=10).raise_for_status()


def uploaded_batches(aep: AEP) -> dict[str, tuple[str, list[str]]]:
    """Batch id -> (dataset id, the names of its files in upload order), from the emulator's request log."""
    batches: dict[str, tuple[str, list[str]]] = {}
    for entry in requests.get(f"{aep.url}/_emulator/requests", timeout=10).json()["requests"]:
        found = _FILE_PUT.match(entry["path"])
        if entry["method"] == "PUT" and found and entry["status"] == 200:
            batch_id, dataset_id, name = found.groups()
            batches.setdefault(batch_id, (dataset_id, []))[1].append(name)
    return batches


def stream_of_file(name: str) -> str:
    """``charges-00001.json`` -> ``charges``."""
    return name.rsplit("-", 1)[0]


def landed_ids(aep: AEP, before: dict[str, int]) -> dict[str, list[str]]:
    """The Stripe ids landed in each dataset since ``before``, in landing order."""
    return {d: [r["_acme"]["stripe"]["id"] for r in aep.landed(d)[before[d] :]] for d in SCHEMA_FILE_BY_DATASET}


def input_ids() -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {d: [] for d in SCHEMA_FILE_BY_DATASET}
    for message in records():
        ids[dataset_for(message["stream"])].append(message["record"]["id"])
    return ids


def report_json(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.json").read_text())


def test_the_end_of_input_makes_one_batch_per_dataset_with_a_file_per_stream(aep: AEP, tmp_path: Path) -> None:
    before = aep.landed_counts()
    forget_requests(aep)
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)))
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states, "the run should confirm its state"

    # 52 streams, 126 records, 3 datasets: 3 batches (a batch per stream made 52).
    batches = uploaded_batches(aep)
    assert sorted(dataset for dataset, _ in batches.values()) == sorted(SCHEMA_FILE_BY_DATASET)
    for dataset_id, files in batches.values():
        assert sorted(map(stream_of_file, files)) == sorted(streams_of(dataset_id)), dataset_id  # one file each
    # The same records land in each dataset as with a batch per stream: each exactly once.
    got = landed_ids(aep, before)
    assert {d: sorted(ids) for d, ids in got.items()} == {d: sorted(ids) for d, ids in input_ids().items()}
    # The run report lists each batch with the streams it carried and their records.
    listed = report_json(tmp_path)["batches"]["listed"]
    per_stream = records_per_stream()
    assert {b["batch_id"] for b in listed} == set(batches)
    for batch in listed:
        assert batch["status"] == "success"
        assert batch["streams"] == {s: per_stream[s] for s in streams_of(batch["dataset_id"])}
        assert batch["records"] == sum(batch["streams"].values())
    page = (tmp_path / "report.html").read_text()
    assert "<th>streams (records)</th>" in page and "charges 3" in page  # the HTML page lists them too


def test_full_streams_go_alone_during_the_input_and_each_stream_lands_in_order(aep: AEP, tmp_path: Path) -> None:
    # Two records a batch: every stream fills (and goes alone) during the input; the streams with a third record
    # hand it over at the end of input, one batch per dataset.
    before = aep.landed_counts()
    forget_requests(aep)
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), batch_max_records=2)
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]

    per_stream = records_per_stream()
    uploaded = uploaded_batches(aep)
    listed = report_json(tmp_path)["batches"]["listed"]
    assert {b["batch_id"] for b in listed} == set(uploaded)
    full = [b["streams"] for b in listed if 2 in b["streams"].values()]
    assert sorted(s for streams in full for s in streams) == sorted(per_stream)  # alone: a batch each
    assert all(len(streams) == 1 for streams in full)
    leftovers = {s for s, n in per_stream.items() if n == 3}
    joined = [b for b in listed if 2 not in b["streams"].values()]
    assert sorted(b["dataset_id"] for b in joined) == sorted({dataset_for(s) for s in leftovers})
    for batch in joined:
        expected = {s: 1 for s in leftovers if dataset_for(s) == batch["dataset_id"]}
        assert batch["streams"] == expected
        assert sorted(map(stream_of_file, uploaded[batch["batch_id"]][1])) == sorted(expected)
    # A stream's later record never lands before its earlier ones.
    landed = landed_ids(aep, before)
    by_stream: dict[str, list[str]] = defaultdict(list)
    for message in records():
        by_stream[message["stream"]].append(message["record"]["id"])
    checked = 0
    for stream, ids in by_stream.items():
        if any(set(ids) & set(other) for name, other in by_stream.items() if name != stream):
            continue  # plans and prices share their ids: the landed rows do not say which stream they came from
        assert [i for i in landed[dataset_for(stream)] if i in ids] == ids, stream  # an id may come twice
        checked += len(ids) == 3
    assert checked >= 20


_CHUNK = 4
_BUFFER_DRAIN = re.compile(
    r"Streams hold (\d+) bytes, over the shared buffer of (\d+): draining dataset (\S+), (\d+) bytes of (\d+) stream"
)


def run_target_with_buffer(config: dict, input_text: str, tmp_path: Path, budget: int) -> TargetRun:
    """The target CLI with a shared buffer of ``budget`` bytes checked at every record (a test-sized 48 MB), its
    records mapped in the main process in chunks of ``_CHUNK`` (1,024 would hold the whole sample until the end)."""
    config_path = tmp_path / "config-buffer.json"
    config_path.write_text(json.dumps(config))
    prelude = (
        "import target_aep.shared_buffer as b; "
        f"b.TOTAL_BUFFER_BYTES = {budget}; b.BUDGET_CHECK_STEP = 1; "
        f"import target_aep.mapping_workers.pool as w; w.CHUNK_RECORDS_HERE = {_CHUNK}; "
        "from target_aep.target import TargetAEP; TargetAEP.cli()"
    )
    completed = subprocess.run(
        [sys.executable, "-c", prelude, "--config", str(config_path)],
        input=input_text,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    return TargetRun(completed.returncode, completed.stdout, completed.stderr)


def test_a_full_shared_buffer_drains_the_fullest_dataset_whole_as_one_batch(aep: AEP, tmp_path: Path) -> None:
    # The sample's 126 records make about 60 KB of XDM lines: a 16 KB buffer fills several times during the input.
    # Each time the dataset holding the most drains, all its streams in one batch (before: the stream being
    # written drained alone, a batch of one stream each time).
    budget = 16_000
    before = aep.landed_counts()
    forget_requests(aep)
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), mapping_workers=0)
    run = run_target_with_buffer(config, singer_text(ALL_STREAMS), tmp_path, budget)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.states, "the run should confirm its state"

    drains = [tuple(int(g) if g.isdigit() else g for g in m.groups()) for m in _BUFFER_DRAIN.finditer(run.stderr)]
    assert len(drains) >= 3, run.stderr[-3000:]
    largest_record = max(len(json.dumps(m["record"])) for m in records())  # its XDM line is smaller
    for held, bound, _dataset, drained, streams in drains:
        assert bound == budget
        # Checked at every record kept: over by the records of the chunk being completed at most.
        assert budget <= held < budget + _CHUNK * largest_record
        assert drained >= held / 3  # the fullest of 3 datasets
        assert streams >= 2
    listed = report_json(tmp_path)["batches"]["listed"]
    uploaded = uploaded_batches(aep)
    assert {b["batch_id"] for b in listed} == set(uploaded)
    # One batch per drain (the buffer's and the end of input's one per dataset), each carrying the streams drained.
    during_input = [b for b in listed if len(b["streams"]) in {streams for *_, streams in drains}]
    assert len(listed) <= len(drains) + len(SCHEMA_FILE_BY_DATASET)
    assert len(during_input) >= len(drains)
    for batch in listed:
        assert {dataset_for(s) for s in batch["streams"]} == {batch["dataset_id"]}
        assert sorted(map(stream_of_file, uploaded[batch["batch_id"]][1])) == sorted(batch["streams"])
    # The same records land in each dataset, each exactly once.
    got = landed_ids(aep, before)
    assert {d: sorted(ids) for d, ids in got.items()} == {d: sorted(ids) for d, ids in input_ids().items()}


def test_a_failed_dataset_batch_writes_no_state_and_reports_every_stream_it_carried(aep: AEP, tmp_path: Path) -> None:
    # Without the profile dataset (one stream only): whichever batch fails carries several streams.
    sent = {s for s in records_per_stream() if dataset_for(s) != DATASET_BY_CLASS["profile"]}
    messages = [m for m in singer_messages(ALL_STREAMS) if m["type"] == "STATE" or m["stream"] in sent]
    aep.faults(fail_next_batches=1)
    config = aep.config(tmp_path, datasets=datasets_setting(sorted(sent)))
    run = run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)
    assert run.returncode == 1, run.stderr[-3000:]
    assert run.states == [], "no STATE may be written past a failed batch"
    assert "Traceback" not in run.stderr and "AEP named no refused row" in run.stderr

    document = report_json(tmp_path)
    [failed] = [b for b in document["batches"]["listed"] if b["status"] == "failed"]
    carried = streams_of(failed["dataset_id"])
    assert set(failed["streams"]) == carried and len(carried) > 1
    assert failed["batch_id"] in run.stderr
    per_stream = records_per_stream()
    counts = {s["stream"]: s for s in document["streams"]}
    for stream in carried:  # every record of every stream in it: in a failed batch, none landed
        assert (counts[stream]["in_failed_batches"], counts[stream]["landed"]) == (per_stream[stream], 0), stream
    for stream in sent - carried:  # the other dataset's batch was accepted
        assert (counts[stream]["landed"], counts[stream]["in_failed_batches"]) == (per_stream[stream], 0), stream


def test_a_refused_row_in_a_multi_stream_batch_is_traced_to_its_stream_and_id(aep: AEP, tmp_path: Path) -> None:
    refused = {"ch_3PqKwd0000000003": "charges", "re_3PqUsdPartial005": "refunds"}
    rule = {
        "dataset_id": EVENTS,
        "pointer": "/_acme/stripe/id",
        "matches": "^(" + "|".join(refused) + ")$",
        "code": "1402",
        "message": "#/_acme/stripe/id: {value} is refused",
    }
    requests.post(f"{aep.url}/_emulator/row_refusals", json={"rules": [rule]}, timeout=10).raise_for_status()
    try:
        config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)))
        run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    finally:
        requests.post(f"{aep.url}/_emulator/row_refusals", json={"rules": []}, timeout=10).raise_for_status()
    assert run.returncode == 1, run.stderr[-3000:]
    assert run.states == []

    entries = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert {e["id"]: e["stream"] for e in entries} == refused
    for entry in entries:
        assert entry["record"]["_acme"]["stripe"]["id"] == entry["id"] and entry["dataset_id"] == EVENTS
        assert entry["aep_errors"] == [{"code": "1402", "message": f"#/_acme/stripe/id: {entry['id']} is refused"}]
    document = report_json(tmp_path)
    [failed] = [b for b in document["batches"]["listed"] if b["status"] == "failed"]
    assert set(failed["streams"]) == streams_of(EVENTS) and entries[0]["batch_id"] == failed["batch_id"]
    counts = {s["stream"]: s for s in document["streams"]}
    for stream in streams_of(EVENTS):
        assert counts[stream]["rejected_by_aep"] == (1 if stream in refused.values() else 0), stream
        assert counts[stream]["in_failed_batches"] == records_per_stream()[stream], stream
    assert f"AEP refused 2 of its {sum(failed['streams'].values())} rows" in run.stderr


def test_streaming_and_output_dir_are_unchanged(aep: AEP, tmp_path: Path) -> None:
    """Only Batch Ingestion joins streams: streaming sends each stream's records to the inlet, output_dir writes a
    file per dataset, as before."""
    before = aep.landed_counts()
    forget_requests(aep)
    config = aep.config(
        tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS), inlet=True), ingestion_mode="streaming"
    )
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert uploaded_batches(aep) == {}
    got = landed_ids(aep, before)
    assert {d: sorted(ids) for d, ids in got.items()} == {d: sorted(ids) for d, ids in input_ids().items()}
    inlets = report_json(tmp_path)["streaming"]
    assert sorted(i["stream"] for i in inlets) == sorted(records_per_stream())

    out = tmp_path / "out"
    config = aep.config(tmp_path, datasets=datasets_setting(streams_in(ALL_STREAMS)), output_dir=str(out))
    forget_requests(aep)
    run = run_target(config, singer_text(ALL_STREAMS), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert uploaded_batches(aep) == {}
    written = {
        p.stem: sorted(json.loads(line)["_acme"]["stripe"]["id"] for line in p.read_text().splitlines())
        for p in out.glob("*.jsonl")
    }
    assert written == {d: sorted(ids) for d, ids in input_ids().items()}


# -- the order rule, with AEP's processing time chosen per batch (a batch's send stands in for AEP)


class SlowFirstAEP:
    """Lands batches as AEP would, taking longer for the first: what a later batch must not overtake."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []  # each batch's parts as ``stream#n``, when its upload starts
        self.events: list[str] = []  # "sent ..." and "accepted ...", in the order they happened

    def send(self, dataset: object, parts: t.Sequence[StreamPart]) -> str:
        names = [f"{p.stream}#{p.lines[0].decode()}" for p in parts]
        self.sent.append(names)
        self.events.append(f"sent {' '.join(names)}")
        time.sleep(0.3 if len(self.sent) == 1 else 0.01)
        self.events.append(f"accepted {' '.join(names)}")
        return f"batch-{len(self.sent)}"


def part(stream: str, number: int) -> StreamPart:
    return StreamPart(stream, [str(number).encode()], [f"{stream}_{number}"], 1, lambda _batch_id: None)


def test_a_streams_later_part_waits_for_its_earlier_batch_and_a_drain_joins_the_rest() -> None:
    aep = SlowFirstAEP()
    deliveries = DeliveryQueue(16, max_bytes=64)
    batches = DatasetBatches(deliveries, aep.send, max_bytes=64)
    dataset = SimpleNamespace(dataset_id="events")
    batches.offer(dataset, part("charges", 1))  # a full sink, during the input: alone, at once
    with batches.handover():  # a drain of every sink
        batches.offer(dataset, part("refunds", 1))
        batches.offer(dataset, part("charges", 2))  # waits for charges#1's batch
        batches.offer(dataset, part("refunds", 2))  # a second part within one drain: a later batch
    deliveries.wait_all()
    deliveries.shutdown()
    # refunds#2 comes after refunds#1 in the same drain: what was gathered goes first, and refunds#2 after it.
    assert aep.sent == [["charges#1"], ["refunds#1", "charges#2"], ["refunds#2"]]
    assert aep.events.index("accepted charges#1") < aep.events.index("sent refunds#1 charges#2")
    assert aep.events.index("accepted refunds#1 charges#2") < aep.events.index("sent refunds#2")


def test_a_drains_parts_are_cut_into_batches_at_max_bytes() -> None:
    parts = [StreamPart(s, [b"x" * n], [s], n, lambda _batch_id: None) for s, n in [("a", 40), ("b", 30), ("c", 90)]]
    assert [[p.stream for p in batch] for batch in split_by_bytes(parts, 64)] == [["a"], ["b"], ["c"]]
    assert [[p.stream for p in batch] for batch in split_by_bytes(parts, 70)] == [["a", "b"], ["c"]]
