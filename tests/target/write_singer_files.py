"""Write the target's Singer input files in ``tests/data_files/`` from the sample Stripe records.

Run ``.venv/bin/python -m tests.target.write_singer_files`` after the samples in
``tests/data_files/stripe_records/<stream>.json`` or the tap's schemas change; the output is checked in.

- ``stripe_all_streams.singer``: every stream's SCHEMA (the tap's own), its sample records, a STATE per stream.
- ``stripe_invalid_records.singer``: valid records mixed with ones the target must dead-letter.
- ``malformed_json.singer``: good records, a STATE, then a line that is not JSON.
- ``record_before_schema.singer``: a RECORD whose stream has had no SCHEMA.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA_FILES = REPO / "tests" / "data_files"
SAMPLES = DATA_FILES / "stripe_records"
TAP_SCHEMAS = REPO / "tap_stripe_aep" / "schemas"


def schema_message(stream: str) -> dict:
    schema = json.loads((TAP_SCHEMAS / f"{stream}.json").read_text())
    schema.pop("$comment", None)
    _drop_descriptions(schema)  # keeps the checked-in files small; the target reads only types and keys
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": schema,
        "key_properties": ["id"],
        "bookmark_properties": ["updated"] if "updated" in schema.get("properties", {}) else [],
    }


def _drop_descriptions(node: object) -> None:
    if isinstance(node, dict):
        node.pop("description", None)
        for value in node.values():
            _drop_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _drop_descriptions(value)


def sample_records() -> dict[str, list[dict]]:
    """Stream -> its sample records (a file may hold one record or a list)."""
    samples: dict[str, list[dict]] = {}
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        samples[path.stem] = data if isinstance(data, list) else [data]
    return samples


def state_message(bookmarks: dict[str, dict]) -> dict:
    return {"type": "STATE", "value": {"bookmarks": copy.deepcopy(bookmarks)}}


def write_lines(name: str, messages: list[dict]) -> Path:
    path = DATA_FILES / name
    path.write_text("".join(json.dumps(m, sort_keys=True) + "\n" for m in messages))
    return path


def all_streams(samples: dict[str, list[dict]]) -> list[dict]:
    messages: list[dict] = []
    bookmarks: dict[str, dict] = {}
    for stream, records in samples.items():
        messages.append(schema_message(stream))
        for record in records:
            messages.append({"type": "RECORD", "stream": stream, "record": record})
        latest = max((r.get("updated") or r.get("created") or "" for r in records), default="")
        bookmarks[stream] = {"replication_key": "updated", "replication_key_value": latest}
        messages.append(state_message(bookmarks))
    return messages


def invalid_records(samples: dict[str, list[dict]]) -> list[dict]:
    """Customers and charges: good ones, one without ``id`` each, and a charge with no usable time.

    An ExperienceEvent requires ``timestamp``; a charge whose ``created`` is not a date-time has none, so the
    XDM validation rejects it.
    """
    messages: list[dict] = []
    for stream in ("customers", "charges"):
        good = samples[stream][0]
        missing_key = {k: v for k, v in good.items() if k != "id"}
        messages += [
            schema_message(stream),
            {"type": "RECORD", "stream": stream, "record": good},
            {"type": "RECORD", "stream": stream, "record": missing_key},
        ]
    good = samples["charges"][0]
    bad_time = dict(good, id=f"{good['id']}_badtime", created="yesterday", updated="yesterday")
    messages.append({"type": "RECORD", "stream": "charges", "record": bad_time})
    messages.append(state_message({"charges": {"replication_key_value": "done"}}))
    return messages


def main() -> None:
    samples = sample_records()
    if not samples:
        sys.exit(f"no sample records in {SAMPLES}")
    print(write_lines("stripe_all_streams.singer", all_streams(samples)))
    print(write_lines("stripe_invalid_records.singer", invalid_records(samples)))
    customers = samples["customers"]
    malformed = [schema_message("customers")]
    malformed += [{"type": "RECORD", "stream": "customers", "record": r} for r in customers]
    malformed.append(state_message({"customers": {"replication_key_value": "first"}}))
    path = write_lines("malformed_json.singer", malformed)
    with path.open("a") as handle:
        handle.write('{"type": "RECORD", "stream": "customers", "record": {"id": "cus_broken"\n')
    print(path)
    print(
        write_lines(
            "record_before_schema.singer",
            [{"type": "RECORD", "stream": "customers", "record": customers[0]}, schema_message("customers")],
        )
    )


if __name__ == "__main__":
    main()
