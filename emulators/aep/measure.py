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

from emulators.aep.catalog import Catalog
from emulators.aep.config import CLIENT_ID, CLIENT_SECRET, ORG_ID, XDM_DIR
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
    validator = Catalog().validators[EVENT_DATASET]
    lines = rows.splitlines()
    started = time.perf_counter()
    assert all(validator.is_valid(json.loads(line)) for line in lines)
    return len(lines) / (time.perf_counter() - started)


def batch_wall_time(rows: bytes, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as store, aep_emulator(store=store) as aep:
        token = requests.post(
            f"{aep.url}/ims/token/v3",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "openid,AdobeID",
            },
            timeout=10,
        ).json()["access_token"]
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


def main() -> None:
    count = 100_000
    rows = commerce_rows(count)
    print(f"batch validation (parse + jsonschema_rs), commerce event: {validation_rate(rows):,.0f} rows/s")
    timing = batch_wall_time(rows, count)
    print(
        f"{count:,}-record batch ({len(rows) / 1e6:.0f} MB): upload {timing['upload_s']:.2f} s, "
        f"COMPLETE -> success {timing['complete_to_success_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
