"""The one-core record path's shortcuts (`record_dispatch`, `AEPSink.complete_record`): each does what the SDK's or
the readable step does, record for record. Runs the target in this process (output_dir mode, no worker) so the
SDK's clock-driven steps can be made to fire on every record."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
import singer_sdk.metrics as metrics

from target_aep import reader
from target_aep.sinks import AEPSink
from target_aep.target import TargetAEP
from target_aep.xdm import build_mapper
from tests.target.conftest import (
    AEP,
    SCHEMA_FILE_BY_DATASET,
    XDM_DIR,
    dataset_for,
    dataset_schema,
    datasets_setting,
    singer_messages,
)

pytestmark = pytest.mark.timeout(60)


def _charges(count: int) -> tuple[dict, list[dict]]:
    messages = singer_messages("stripe_all_streams.singer")
    schema = next(m for m in messages if m["type"] == "SCHEMA" and m["stream"] == "charges")
    sample = next(m for m in messages if m["type"] == "RECORD" and m["stream"] == "charges")
    records = []
    for index in range(count):
        record = json.loads(json.dumps(sample))
        record["record"]["id"] = f"ch_path_{index}"
        records.append(record)
    return schema, records


def _config(tmp_path: Path) -> dict:
    return {
        "output_dir": str(tmp_path / "out"),
        "tenant_id": "acme",
        "datasets": datasets_setting(["charges"]),
        "local_schemas": {d: str(XDM_DIR / name) for d, name in SCHEMA_FILE_BY_DATASET.items()},
        "dead_letter_path": str(tmp_path / "rejected.jsonl"),
        "report_path": str(tmp_path / "report.html"),
        "repairs_path": str(tmp_path / "repairs.jsonl"),
        "mapping_workers": 0,
    }


def _run_in_process(tmp_path: Path, messages: list[dict], monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Run the target on ``messages`` in this process; returns the states it wrote, in order."""
    config = _config(tmp_path)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    target = TargetAEP(config=config, validate_config=True)
    target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    return [json.loads(line) for line in stdout.getvalue().splitlines()]  # the target writes each state bare


def test_the_record_metric_and_the_age_drain_fire_on_each_record_as_the_sdks_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With a log interval and a record age of 0, the SDK logs a record count and drains every sink (writing the
    STATE received so far) after each record: `RecordDispatch._after_record` reads the clock once for both."""
    schema, records = _charges(3)
    counter = metrics.Counter.__init__
    monkeypatch.setattr(
        metrics.Counter, "__init__", lambda self, *a, **k: counter(self, *a, **{**k, "log_interval": -1.0})
    )
    monkeypatch.setattr(TargetAEP, "_MAX_RECORD_AGE_IN_MINUTES", -1.0)
    messages = [schema, records[0], {"type": "STATE", "value": {"at": 1}}, records[1], records[2]]
    messages.append({"type": "STATE", "value": {"at": 2}})
    with caplog.at_level(logging.INFO):
        states = _run_in_process(tmp_path, messages, monkeypatch)
    logged = [r.getMessage() for r in caplog.records]
    points = [json.loads(m.split("METRIC: ", 1)[1]) for m in logged if "METRIC: " in m]
    counts = [p["value"] for p in points if p["metric"] == "record_count" and p["tags"].get("stream") == "charges"]
    assert counts[:3] == [1, 1, 1]  # one point a record, each counting that record
    assert sum(counts) == 3
    drains = [m for m in logged if "exceeded the max age" in m]
    assert len(drains) == 3  # one full drain after each record
    assert states == [{"at": 1}, {"at": 1}, {"at": 2}]  # the drains after records 2 and 3, then the end of input
    output = tmp_path / "out" / f"{dataset_for('charges')}.jsonl"
    landed = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(r["_acme"]["stripe"]["id"] for r in landed) == ["ch_path_0", "ch_path_1", "ch_path_2"]


def test_without_workers_a_record_line_is_read_by_its_head_and_decoded_with_its_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without workers too, the reader decodes no RECORD line whose head names its stream (`record_head`): its
    chunk's lines are decoded grouped by stream when mapped (`map_lines`), where it costs less."""
    schema, records = _charges(5)
    state = {"type": "STATE", "value": {"bookmark": 5}}
    source = tmp_path / "input.singer"
    lines = [json.dumps({"type": "RECORD", "stream": "charges", "record": m["record"]}) for m in records]
    source.write_text("\n".join([json.dumps(schema), *lines, json.dumps(state)]) + "\n")
    decoded: list[str] = []
    decode_message = reader.decode_message

    def counted(line: str | bytes, line_number: int) -> dict:
        message = decode_message(line, line_number)
        decoded.append(message["type"])
        return message

    monkeypatch.setattr(reader, "decode_message", counted)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    target = TargetAEP(config=_config(tmp_path), validate_config=True)
    with source.open() as stdin:  # a file: lines read as bytes, as from stdin
        target.listen(stdin)
    assert decoded == ["SCHEMA", "STATE"]
    assert [json.loads(line) for line in stdout.getvalue().splitlines()] == [{"bookmark": 5}]
    files = list((tmp_path / "out").rglob("*.jsonl"))
    landed = [json.loads(line) for path in files for line in path.read_text().split("\n") if line]
    assert len({xdm["_id"] for xdm in landed}) == len(landed) == 5


def test_a_chunk_without_rejects_or_repairs_is_kept_by_batch_as_record_by_record(
    aep: AEP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose lines all map to plain XDM lines is kept one stream's batch at a time (`complete_lines`), not
    record by record: each batch must still hold its lines, record keys (batch mode: they name a row AEP refuses)
    and live changes (records changed while the pipeline ran) in input order, as keeping each record gives."""
    streams = ["charges", "customers", "refunds"]
    messages = singer_messages("stripe_all_streams.singer")
    schemas = [m for m in messages if m["type"] == "SCHEMA" and m["stream"] in streams]
    samples = {s: next(m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == s) for s in streams}
    records: list[tuple[str, dict]] = []
    for index in range(2400):  # the stream changes at every record, as in the benchmark's input; several chunks
        stream = streams[index % 3] if index % 7 else streams[(index + 1) % 3]
        record = json.loads(json.dumps(samples[stream]))
        record["id"] = f"{stream}_{index}"
        record["updated"] = "2999-01-01T00:00:00Z" if index % 5 == 0 else "2020-01-01T00:00:00Z"
        records.append((stream, record))
    kept: dict[str, list[tuple[list[bytes], list, list]]] = {}
    process_batch = AEPSink.process_batch

    def spied(sink: AEPSink, context: dict) -> None:
        if sink._pool is not None:
            sink._pool.complete_all()
        batch = (list(context.get("lines", [])), list(context.get("record_keys", [])), context.get("live_changes"))
        kept.setdefault(sink.stream_name, []).append(batch)
        process_batch(sink, context)

    monkeypatch.setattr(AEPSink, "process_batch", spied)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    config = aep.config(tmp_path, tenant_id="acme", datasets=datasets_setting(streams), mapping_workers=0)
    text = "".join(json.dumps(m) + "\n" for m in schemas)
    text += "".join(json.dumps({"type": "RECORD", "stream": s, "record": r}) + "\n" for s, r in records)
    source = tmp_path / "input.singer"
    source.write_text(text)
    with source.open() as stdin:  # a file: lines read as bytes, as from stdin
        TargetAEP(config=config, validate_config=True).listen(stdin)
    for stream in streams:
        [(lines, keys, live)] = kept[stream]
        expected = [record for s, record in records if s == stream]
        assert keys == [record["id"] for record in expected]
        mapper = build_mapper(stream, dataset_schema(dataset_for(stream)), tenant_id="acme")
        assert [json.loads(line)["_id"] for line in lines] == [mapper.map(record)["_id"] for record in expected]
        assert live == [(i, r["updated"]) for i, r in enumerate(expected) if r["updated"].startswith("2999")]
    assert not (tmp_path / "rejected.jsonl").exists() or not (tmp_path / "rejected.jsonl").read_text()


def test_a_chunk_with_a_rejected_line_is_completed_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk of undecoded lines (no worker) in which one record is rejected (its money has no valid currency) is
    not kept by batch (`pool._all_plain` is false): the reject goes to the dead-letter file and every other
    record lands, in input order."""
    schema, records = _charges(5)
    records[2]["record"]["currency"] = "usdollars"
    source = tmp_path / "input.singer"
    lines = [json.dumps({"type": "RECORD", "stream": "charges", "record": m["record"]}) for m in records]
    source.write_text("\n".join([json.dumps(schema), *lines]) + "\n")  # each line opens with its head
    monkeypatch.setattr("sys.stdout", io.StringIO())
    with source.open() as stdin:  # a file: lines read as bytes, so they reach the pool undecoded
        TargetAEP(config=_config(tmp_path), validate_config=True).listen(stdin)
    output = tmp_path / "out" / f"{dataset_for('charges')}.jsonl"
    landed = [json.loads(line)["_acme"]["stripe"]["id"] for line in output.read_text().splitlines()]
    assert landed == ["ch_path_0", "ch_path_1", "ch_path_3", "ch_path_4"]
    [rejected] = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert rejected["record"]["id"] == "ch_path_2" and "usdollars" in rejected["reasons"][0]
