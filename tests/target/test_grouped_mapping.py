"""`mapping_workers.map_chunk`: a chunk's records mapped grouped by stream give, record by record and in input
order, what the sink gives one record at a time (its money check, then `map_one`: the XDM line, the reasons to
reject, the repairs and the `_id` they name), and the fields left unplaced are the same.

In-process, with the real mappers and validators of every sample stream and odd records (repairs, mapping
rejects, validation rejects) in an order that changes stream at almost every record.
"""

from __future__ import annotations

import json
import random

from target_aep.mapping_workers.lines import MALFORMED, NOT_AS_READ, map_lines
from target_aep.mapping_workers.records import map_chunk, map_one
from target_aep.xdm import XdmValidator, build_mapper
from target_aep.xdm.commerce import unconvertible_amount
from tests.target.conftest import dataset_for, dataset_schema
from tests.target.test_compiled_mapping import SAMPLES, _mutate


def _tools(streams: list[str]) -> list[tuple]:
    tools = []
    for stream in streams:
        schema = dataset_schema(dataset_for(stream))
        stages = {"mapping": 0.0, "validation": 0.0, "serialization": 0.0}
        mapper = build_mapper(stream, schema, tenant_id="acme")
        tools.append((stream, mapper, XdmValidator.for_schema(schema), stages))
    return tools


def test_a_chunk_mapped_by_stream_gives_each_record_what_mapping_it_alone_gives() -> None:
    rng = random.Random(5)
    streams = sorted(SAMPLES)
    keys = [rng.randrange(len(streams)) for _ in range(1500)]
    records = [_mutate(rng.choice(SAMPLES[streams[key]]), rng) for key in keys]
    one_by_one, grouped = _tools(streams), _tools(streams)
    expected = [_alone(one_by_one[key], dict(record)) for key, record in zip(keys, records, strict=True)]
    outcomes = []
    for start in range(0, len(records), 256):  # as the pool cuts its input into chunks
        chunk = [dict(record) for record in records[start : start + 256]]
        outcomes += map_chunk(keys[start : start + 256], chunk, grouped.__getitem__)
    assert outcomes == expected
    kinds = {(line is None, bool(repairs)) for line, _, _, repairs in expected}
    assert kinds == {(True, False), (False, False), (False, True)}  # rejects, plain lines, repaired lines
    first_reasons = {reasons[0].split(" ")[0] for _, reasons, _, _ in expected if reasons}
    assert first_reasons == {"mapping", "XDM", "currency"}  # mapping errors, validation, the money check
    for (_, mapper, _, _), (_, alone, _, _) in zip(grouped, one_by_one, strict=True):
        assert mapper.repairs.unplaced == alone.repairs.unplaced and not mapper.repairs.pending
    assert all(stages["mapping"] > 0 for _, _, _, stages in grouped if stages["validation"])


def _alone(tools: tuple, record: dict) -> tuple:
    """What `AEPSink.accept_record` does with one record: the money check, then `map_one`."""
    stream, mapper, validator, stages = tools
    if (problem := unconvertible_amount(stream, record)) is not None:
        return None, [problem], None, None
    return map_one(mapper, validator, record, stages)


def test_a_chunk_of_lines_decoded_by_stream_gives_each_line_what_mapping_it_alone_gives() -> None:
    """`map_lines` decodes a chunk's lines grouped by stream (`_grouped_by_key`): each line's outcome and facts are
    still its own, in input order, whatever stands beside it (other streams, a line that is not JSON, one whose
    full decode is another stream's RECORD, one missing its key)."""
    rng = random.Random(8)
    streams = sorted(SAMPLES)
    lines: list[tuple[int, bytes]] = []
    for n in range(700):
        key = rng.randrange(len(streams))
        record = {**_mutate(rng.choice(SAMPLES[streams[key]]), rng), "id": f"rec_{n}"}
        if n % 97 == 5:
            record["id"] = None  # missing its key property
        line = json.dumps({"type": "RECORD", "stream": streams[key], "record": record}).encode()
        if n % 101 == 7:
            line = line[: len(line) // 2]  # not JSON
        elif n % 103 == 11:
            line = json.dumps({"type": "RECORD", "stream": streams[key - 1], "record": record}).encode()
        lines.append((key, line))
    key_properties = ("id",)
    one_by_one, grouped = _tools(streams), _tools(streams)
    expected = [map_lines([key], [line], lambda key: (one_by_one[key], key_properties)) for key, line in lines]
    outcomes, facts = map_lines(
        [key for key, _ in lines], [line for _, line in lines], lambda key: (grouped[key], key_properties)
    )
    assert outcomes == [outcome for (outcome,), _ in expected]
    assert facts == [fact for _, (fact,) in expected]
    assert facts[7] == MALFORMED and facts[11] == NOT_AS_READ and facts[5][0] is None
    assert [fact[0] for fact in facts if type(fact) is tuple][:3] == ["rec_0", "rec_1", "rec_2"]
