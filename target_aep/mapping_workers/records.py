"""A record's mapping, validation and serialization for a batch: one record (`map_one`), one stream's records
(`map_group`) or a chunk's, grouped by stream (`map_chunk`); in the main process or in a worker."""

from __future__ import annotations

import time
import typing as t

from target_aep.json_lines import encode_fractionless_line, encode_line
from target_aep.xdm import XdmValidator
from target_aep.xdm.commerce import unconvertible_amount

if t.TYPE_CHECKING:
    from target_aep.xdm import XdmMapper
    from target_aep.xdm.repairs import Repair

# One record's outcome: (XDM line, None, its `_id` if repaired, repairs or None) or (None, reasons, None, None).
Outcome = tuple[bytes | None, list[str] | None, t.Any, "list[Repair] | None"]
Stages = dict[str, float]


def missing_key_reasons(record: dict, key_properties: t.Sequence[str], key_names: tuple[str, ...]) -> list[str] | None:
    """The reasons to reject ``record`` before mapping when a key property is missing (`AEPSink.accept_record`,
    `map_lines`); ``key_names`` is ``key_properties``, or ``("id",)`` for a stream without any."""
    if len(key_names) == 1 and record.get(key_names[0]) is not None:
        return None
    missing = [key for key in key_properties if record.get(key) is None]
    return [f"missing key property {', '.join(missing)}"] if missing else None


def map_validated(
    mapper: XdmMapper, validator: XdmValidator, record: dict, stages: Stages
) -> tuple[dict, None] | tuple[None, list[str]]:
    """One record's XDM, validated against the dataset's schema, or the reasons to reject the record (its
    repairs then dropped: it is dead-lettered whole). Timed into ``stages``."""
    started = time.perf_counter()
    try:
        xdm = mapper.map(record)
    except Exception as exc:  # a mapping bug on one record must not stop the stream: it is dead-lettered
        mapper.take_repairs()
        return None, _mapping_error(exc)
    mapped = time.perf_counter()
    errors = validator.errors(xdm)
    stages["mapping"] += mapped - started
    stages["validation"] += time.perf_counter() - mapped
    if errors:
        mapper.take_repairs()
        return None, _invalid(errors)
    return xdm, None


def _mapping_error(exc: Exception) -> list[str]:
    """The dead-letter reason of a record whose mapping raised (`map_validated`, `map_group`)."""
    return [f"mapping error: {type(exc).__name__}: {exc}"]


def _invalid(errors: list[str]) -> list[str]:
    """The dead-letter reasons of a record whose XDM the dataset's schema refuses (`map_validated`, `map_group`)."""
    return [f"XDM validation: {error}" for error in errors]


def map_one(mapper: XdmMapper, validator: XdmValidator, record: dict, stages: Stages) -> Outcome:
    """Map, validate and serialize one record for a batch, in the main process (`AEPSink`) or in a worker."""
    xdm, reasons = map_validated(mapper, validator, record, stages)
    if xdm is None:
        return None, reasons, None, None
    validated = time.perf_counter()
    line = encode_line(xdm) if validator.admits_fractions else encode_fractionless_line(xdm)
    stages["serialization"] += time.perf_counter() - validated
    if mapper.repairs.pending:
        return line, None, xdm.get("_id"), mapper.take_repairs()
    return line, None, None, None


def map_group(
    stream: str, mapper: XdmMapper, validator: XdmValidator, records: list[dict], stages: Stages
) -> list[Outcome]:
    """For each of one stream's ``records``, in order, the outcome of the sink's checks and `map_one`: a record
    whose money has no valid currency (`unconvertible_amount`) is rejected before mapping, as the sink does
    (`AEPSink.accept_record`); the others get what `map_one` gives, each step run over the whole group.

    A stream's records are mapped one after another, then validated, then serialized: each step runs the same
    code and data for the whole group while they are in the CPU's caches (mapping the benchmark's records in
    the input's order, where the stream changes at almost every record, cost about 36 µs a record against 22 µs
    in a loop over one stream's). Each step is timed once for the group, not once a record. A record's repairs
    are taken as soon as it is mapped (they belong to that record only) and dropped if it is then rejected. The
    money check runs here rather than in the main process so that, with workers, it is the workers' CPU.
    """
    started = time.perf_counter()
    xdms: list[dict | None] = []
    repairs: list[list[Repair] | None] = []
    reasons: list[list[str] | None] = []
    for record in records:
        if (problem := unconvertible_amount(stream, record)) is not None:
            xdms.append(None)
            repairs.append(None)
            reasons.append([problem])
            continue
        try:
            xdms.append(mapper.map(record))
        except Exception as exc:  # a mapping bug on one record must not stop the stream: it is dead-lettered
            mapper.take_repairs()
            xdms.append(None)
            repairs.append(None)
            reasons.append(_mapping_error(exc))
            continue
        repairs.append(mapper.take_repairs() if mapper.repairs.pending else None)
        reasons.append(None)
    mapped = time.perf_counter()
    for index, xdm in enumerate(xdms):
        if xdm is not None and (errors := validator.errors(xdm)):
            xdms[index] = None
            reasons[index] = _invalid(errors)
    validated = time.perf_counter()
    encode = encode_line if validator.admits_fractions else encode_fractionless_line  # valid records only
    outcomes: list[Outcome] = []
    for xdm, record_repairs, record_reasons in zip(xdms, repairs, reasons, strict=True):
        if xdm is None:
            outcomes.append((None, record_reasons, None, None))
        elif record_repairs:
            outcomes.append((encode(xdm), None, xdm.get("_id"), record_repairs))
        else:
            outcomes.append((encode(xdm), None, None, None))
    stages["mapping"] += mapped - started
    stages["validation"] += validated - mapped
    stages["serialization"] += time.perf_counter() - validated
    return outcomes


# What maps a stream's records: its name, mapper and validator, and the stage timings to add to.
MappingTools = tuple[str, "XdmMapper", XdmValidator, Stages]


def indexes_by_key(keys: list[int]) -> dict[int, list[int]]:
    """The indexes of ``keys`` by key, each key's in input order, the keys in the order of their first index."""
    positions: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        found = positions.get(key)
        if found is None:
            positions[key] = [index]
        else:
            found.append(index)
    return positions


def map_chunk(keys: list[int], records: list[dict], tools: t.Callable[[int], MappingTools]) -> list[Outcome]:
    """The outcomes of ``records`` in their order, the records of each stream (the same entry in ``keys``)
    mapped as one group (`map_group`) with ``tools(key)``; completion stays in input order."""
    outcomes: list[t.Any] = [None] * len(records)
    for key, indexes in indexes_by_key(keys).items():
        stream, mapper, validator, stages = tools(key)
        for index, outcome in zip(
            indexes, map_group(stream, mapper, validator, [records[i] for i in indexes], stages), strict=True
        ):
            outcomes[index] = outcome
    return outcomes
