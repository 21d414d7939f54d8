"""The run report (issue 11): the HTML page and its JSON, written at the end of every run, tell the run's truth.

The numbers are checked against what really happened, not against the target's own counters: the ids that landed
in the AEP emulator per dataset, the batch files it stored, and the lines of the dead-letter file.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
import requests

from target_aep.report import RunReport, reason_kind
from target_aep.run_samples import LatencyReservoir, ThroughputSamples
from tests.target.conftest import (
    AEP,
    ALL_STREAMS,
    DATASET_BY_CLASS,
    dataset_for,
    datasets_setting,
    run_target,
    singer_messages,
)
from tests.target.run_report_page import ReportPage, number

pytestmark = pytest.mark.timeout(120)

STREAMS = ["charges", "customers", "products"]
INJECTED_ID = '<img src=x onerror="alert(1)">&amp;'  # a record id is data: shown as text, never as markup
BAD_CURRENCY_IDS = ["ch_usdollars_1", "ch_usdollars_2", INJECTED_ID]
BAD_CURRENCY_KIND = "currency … is not an ISO 4217 code: the amount … cannot be converted"


def messages_with_rejects() -> list[dict]:
    """The sample records of three streams, plus three charges in a currency that is not one and one without."""
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") in STREAMS or m["type"] == "STATE"]
    source = next(m for m in messages if m["type"] == "RECORD" and m["stream"] == "charges")
    at = messages.index(source) + 1
    for record_id, currency in reversed([(i, "usdollars") for i in BAD_CURRENCY_IDS] + [("ch_nocurrency", None)]):
        bad = copy.deepcopy(source)
        bad["record"].update(id=record_id, amount=1500, currency=currency)
        messages.insert(at, bad)
    return messages


def landed_ids(aep: AEP, dataset_id: str, since: int) -> list[str]:
    return [row["_acme"]["stripe"]["id"] for row in aep.landed(dataset_id)[since:]]


def test_the_report_shows_the_runs_numbers(aep: AEP, tmp_path: Path) -> None:
    messages = messages_with_rejects()
    datasets = sorted({dataset_for(s) for s in STREAMS})
    before = {d: len(aep.landed(d)) for d in datasets}
    files_before = {d: set((aep.store / d).glob("*.jsonl")) for d in datasets}
    config = aep.config(
        tmp_path,
        datasets=datasets_setting(STREAMS),
        batch_max_records=2,
        report_path=str(tmp_path / "out" / "run.html"),
    )

    run = run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    html_path, json_path = tmp_path / "out" / "run.html", tmp_path / "out" / "run.json"
    assert f"Run report (succeeded, exit status 0): {html_path}" in run.stderr
    document = json.loads(json_path.read_text())
    dead_letters = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    landed = {d: landed_ids(aep, d, before[d]) for d in datasets}
    received = Counter(m["stream"] for m in messages if m["type"] == "RECORD")

    # The JSON: the run's own numbers, as the emulator and the dead-letter file have them.
    assert document["run"]["outcome"] == {"status": "succeeded", "exit_code": 0, "message": ""}
    assert document["totals"]["landed"] == sum(len(ids) for ids in landed.values()) == sum(received.values()) - 4
    assert document["totals"]["rejected"] == len(dead_letters) == 4
    assert document["totals"]["not_confirmed"] == 0
    per_dataset = {row["dataset"]: row for row in document["datasets"]}
    assert {d: per_dataset[d]["landed"] for d in datasets} == {d: len(ids) for d, ids in landed.items()}
    assert {d: per_dataset[d]["rejected"] for d in datasets} == {
        d: sum(1 for e in dead_letters if dataset_for(e["stream"]) == d) for d in datasets
    }
    per_stream = {row["stream"]: row for row in document["streams"]}
    assert {s: per_stream[s]["received"] for s in STREAMS} == dict(received)
    assert per_stream["charges"]["dataset"] == DATASET_BY_CLASS["experienceevent"]
    rejects = {(r["stream"], r["reason"]): r for r in document["rejects"]}
    assert rejects[("charges", BAD_CURRENCY_KIND)]["count"] == 3
    assert rejects[("charges", BAD_CURRENCY_KIND)]["examples"] == BAD_CURRENCY_IDS
    assert rejects[("charges", "currency is missing: the amount … cannot be converted")]["examples"] == [
        "ch_nocurrency"
    ]
    # Each batch the report names is a batch the emulator stored, with as many rows.
    stored = {
        path.stem: len(path.read_text().splitlines())
        for d in datasets
        for path in set((aep.store / d).glob("*.jsonl")) - files_before[d]
    }
    assert {b["batch_id"]: b["records"] for b in document["batches"]["listed"]} == stored
    assert document["batches"]["by_status"] == {"success": len(stored)}
    stages = {row["stage"] for row in document["stages"]}
    assert {"mapping", "validation", "serialization", "http"} <= stages
    assert document["throughput"]["points"][-1][1:] == [sum(received.values()), document["totals"]["landed"]]

    # The page: the same numbers in the cells it marks, and the record ids as text.
    text = html_path.read_text()
    page = ReportPage(text)
    assert page.by_id["outcome-status"] == "Succeeded" and page.by_id["outcome-exit-code"] == "0"
    for name, value in document["totals"].items():
        assert number(page.by_id[f"total-{name}"]) == value, name
    for d in datasets:
        assert page.count("dataset-row", d, "landed") == len(landed[d])
    for stream in STREAMS:
        assert page.count("stream-row", stream, "received") == received[stream]
    shown = {(r["stream"], r["reason"]): r for r in page.reasons if r["table"] == "rejects"}
    assert number(shown[("charges", BAD_CURRENCY_KIND)]["count"]) == 3
    assert shown[("charges", BAD_CURRENCY_KIND)]["ids"] == ", ".join(BAD_CURRENCY_IDS)
    assert number(page.by_id["batch-total"]) == len(stored)
    assert (
        "<img" not in text
        and "<script" not in text
        and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "<polyline" in text


def test_a_failed_run_says_so(aep: AEP, tmp_path: Path) -> None:
    aep.faults(fail_next_batches=1)
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") == "customers" or m["type"] == "STATE"]
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]))

    run = run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)

    assert run.returncode == 1, run.stderr[-3000:]
    assert run.states == []
    document = json.loads((tmp_path / "report.json").read_text())
    outcome = document["run"]["outcome"]
    assert (outcome["status"], outcome["exit_code"]) == ("failed", 1)
    assert "ended 'failed'" in outcome["message"]
    assert document["totals"]["landed"] == 0
    assert document["totals"]["in_failed_batches"] == document["totals"]["received"] > 0
    assert document["batches"]["by_status"] == {"failed": 1}
    page = ReportPage((tmp_path / "report.html").read_text())
    assert (page.by_id["outcome-status"], page.by_id["outcome-exit-code"]) == ("Failed", "1")
    assert "ended 'failed'" in page.by_id["outcome-message"]


def test_an_unwritable_report_path_fails_before_any_request(aep: AEP, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    config = aep.config(tmp_path, datasets=datasets_setting(["customers"]), report_path=str(tmp_path / "taken"))
    platform_calls = len(requests.get(f"{aep.url}/_emulator/requests", timeout=10).json()["requests"])
    run = run_target(config, "".join(json.dumps(m) + "\n" for m in singer_messages(ALL_STREAMS)[:3]), tmp_path)
    assert run.returncode == 1
    assert f"report_path {tmp_path / 'taken'}" in run.stderr and "it is a directory" in run.stderr
    assert "Traceback" not in run.stderr and run.states == []
    assert len(requests.get(f"{aep.url}/_emulator/requests", timeout=10).json()["requests"]) == platform_calls


# -- bounded memory, and reasons without their values


def test_reasons_are_tallied_without_the_records_values() -> None:
    report = RunReport()
    for n in range(100):
        report.count_reject(
            "charges", f"currency 'x{n}' is not an ISO 4217 code: the amount {n} cannot be converted", f"ch_{n}"
        )
        report.count_reject("charges", f"reason number {n} of its own", f"ch_{n}")
    tallies = report.rejects["charges"]
    assert tallies[BAD_CURRENCY_KIND].count == 100
    assert tallies[BAD_CURRENCY_KIND].examples == ["ch_0", "ch_1", "ch_2", "ch_3", "ch_4"]
    assert len(tallies) <= 31 and sum(t.count for t in tallies.values()) == 200
    assert (
        reason_kind("personalEmail.address: 'not-an-email' is not a 'email'")
        == "personalEmail.address: … is not a 'email'"
    )
    report.count_repair("customers", "email left out", "cus_1")
    report.count_repair("customers", "phone left out", "cus_1")
    report.count_repair("customers", "email left out", "cus_2")
    assert report.streams["customers"].repaired == 2 and report.repairs["customers"]["email left out"].count == 2


def test_throughput_and_latency_samples_stay_bounded() -> None:
    samples = ThroughputSamples(max_points=50)
    for second in range(1, 10_001):
        samples.sample(second * 10, second * 8, now=samples.started + second)
    points = samples.points()
    assert len(points) <= 50 and points[-1].received == 100_000 and points[-1].landed == 80_000
    assert all(abs(received - 10) < 1e-9 and abs(landed - 8) < 1e-9 for _, received, landed in samples.rates())
    latencies = LatencyReservoir(size=1000)
    for n in range(100_000):
        latencies.add(n / 1000)
    assert len(latencies) == 100_000 and latencies.longest == 99.999
    assert abs(latencies.percentile(0.95) - 95) < 3 and len(latencies._sample) == 1000
