"""``python -m emulators.aep.measure``: how fast the emulator validates and ingests, so it is never the bottleneck.

Prints rows/s of batch validation (parse + compiled check) on the commerce-event example, in process, and the
wall time of a 100,000-record batch through a real emulator (upload, COMPLETE, poll until ``success``).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import requests

from emulators.aep.config import CLIENT_ID, CLIENT_SECRET, INLET_ID, ORG_ID, XDM_DIR, XED_FULL
from emulators.aep.sandbox import SandboxDirectory
from emulators.launch import aep_emulator

EVENT_DATASET = "6650f0c0ffee000000000002"


def commerce_rows(count: int) -> bytes:
    record = json.loads((XDM_DIR / "examples" / "stripe-commerce-event.json").read_text())
    lines = []
    for i in range(count):
        record["_id"] = f"ch_{i:08d}"
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def validation_rate(rows: bytes) -> float:
    validator = SandboxDirectory(["prod"], "stripe").get("prod").catalog.validator(EVENT_DATASET)  # type: ignore[union-attr]
    lines = rows.splitlines()
    started = time.perf_counter()
    assert all(validator.is_valid(json.loads(line)) for line in lines)
    return len(lines) / (time.perf_counter() - started)


def batch_wall_time(rows: bytes, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as store, aep_emulator(store=store, sandbox_preset="stripe") as aep:
        token = _token(aep.url)
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": CLIENT_ID,
            "x-gw-ims-org-id": ORG_ID,
            "x-sandbox-name": "prod",
        }
        session = requests.Session()
        session.headers.update(headers)
        started = time.perf_counter()
        batch_id = session.post(
            f"{aep.url}/data/foundation/import/batches",
            json={"datasetId": EVENT_DATASET, "inputFormat": {"format": "json"}},
        ).json()["id"]
        session.put(
            f"{aep.url}/data/foundation/import/batches/{batch_id}/datasets/{EVENT_DATASET}/files/part-0.json",
            data=rows,
            headers={"Content-Type": "application/octet-stream"},
        ).raise_for_status()
        uploaded = time.perf_counter()
        session.post(f"{aep.url}/data/foundation/import/batches/{batch_id}?action=COMPLETE").raise_for_status()
        while True:
            batch = session.get(f"{aep.url}/data/foundation/catalog/batches/{batch_id}").json()[batch_id]
            if batch["status"] in ("success", "failed"):
                break
            time.sleep(0.02)
        finished = time.perf_counter()
        assert batch["status"] == "success", batch.get("errors")
        assert batch["metrics"]["outputRecordCount"] == count
        landed = sum(1 for _ in (Path(store) / EVENT_DATASET / f"{batch_id}.jsonl").open())
        assert landed == count
        return {"upload_s": uploaded - started, "complete_to_success_s": finished - uploaded}


def streaming_rate(requests_count: int = 40, per_request: int = 500) -> float:
    """Messages/s through ``POST /collection/batch/{inlet}`` with ~0.9 MB requests, one connection."""
    record = json.loads((XDM_DIR / "examples" / "stripe-commerce-event.json").read_text())
    schema_id = json.loads((XDM_DIR / "stripe-commerce-event.schema.json").read_text())["$id"]
    ref = {"id": schema_id, "contentType": XED_FULL}
    header = {"schemaRef": ref, "imsOrgId": ORG_ID, "datasetId": EVENT_DATASET}
    bodies = [
        json.dumps(
            {
                "messages": [
                    {
                        "header": header,
                        "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": {**record, "_id": f"e{n}-{i}"}},
                    }
                    for i in range(per_request)
                ]
            }
        )
        for n in range(requests_count)
    ]
    with tempfile.TemporaryDirectory() as store, aep_emulator(store=store, sandbox_preset="stripe") as aep:
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {_token(aep.url)}", "Content-Type": "application/json"})
        started = time.perf_counter()
        for body in bodies:
            reply = session.post(f"{aep.url}/collection/batch/{INLET_ID}", data=body)
            assert reply.status_code == 207
        return requests_count * per_request / (time.perf_counter() - started)


def _token(base_url: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "openid",
    }
    return str(requests.post(f"{base_url}/ims/token/v3", data=form, timeout=10).json()["access_token"])


def main() -> None:
    count = 100_000
    rows = commerce_rows(count)
    print(f"batch validation (parse + jsonschema_rs), commerce event: {validation_rate(rows):,.0f} rows/s")
    timing = batch_wall_time(rows, count)
    print(
        f"{count:,}-record batch ({len(rows) / 1e6:.0f} MB): upload {timing['upload_s']:.2f} s, "
        f"COMPLETE -> success {timing['complete_to_success_s']:.2f} s"
    )
    print(f"streaming, 500 messages a request, one connection: {streaming_rate():,.0f} messages/s")


if __name__ == "__main__":
    main()
