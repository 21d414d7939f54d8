"""`mapping_workers`: records mapped, validated and serialized in worker processes, landed in input order.

Mapping is per record and pure, and it is most of the target's CPU; one process uses one core. With workers, the
main process still reads every line and does every step with an effect (counts, dead letters, repairs, batches,
STATE) in input order, as without them; what it hands out is the CPU-bound middle:

- RECORD lines whose record reaches the sink as the tap sent it (`record_dispatch`'s fast path) are collected in
  chunks of `CHUNK_RECORDS` *raw line bytes* and sent to a worker over a pipe. The main process does not decode
  such a line when its head says which stream it is (`record_head`, `submit_line`); other lines it decodes as
  before. A worker decodes each line with the reader's decoder, checks that it is the RECORD it was read as,
  rejects a record missing a key property, maps, validates and encodes the others with the same mapper and
  validator the sink would use (`map_lines`, `map_chunk`, built in the worker from the same arguments) and sends
  back per record the XDM line or the reasons to reject it, the repairs, the fields left unplaced, and what the
  main process reads of the record (its key and `updated`). The main process decodes a line itself only to
  dead-letter its record, or to name a malformed line (`reader.decode_message`: its line number, as the reader
  gives it) when its turn to complete comes, which is before any STATE after it is written.
- Chunks complete strictly in submission order (`_complete_head`): each record's outcome goes through the
  sink's own completion (`AEPSink.complete_record`), so `_id`s, line order, dead-letter and repairs lines are
  those of a run without workers. Records the sink rejects before mapping (a missing key) take their place in
  the same queue, and money without a valid currency is rejected by `map_group` before mapping (in the worker):
  dead-letter lines keep their order too.
- A chunk's records are mapped grouped by stream (`map_chunk`, `map_group`: each step runs one stream's code and
  data for several records in a row, while they are in the CPU's caches), their outcomes put back in input order.
  With `mapping_workers` 0 the pool has no worker and maps every chunk here, for that gain alone.
- When every worker already holds `IN_FLIGHT_PER_WORKER` chunks, the main process maps the chunk itself instead
  of waiting: on two cores the main process's own work (reading, decoding, delivering) is about a third of a
  worker's, and this balances the two without a tuning knob.
- State semantics are unchanged: a sink's `process_batch` (and so every drain, hence every STATE line) first
  completes everything submitted (`complete_all`), under a lock because the SDK may drain sinks in threads.
- A worker that dies (killed, out of memory) or fails outside a record's mapping ends the run with
  `MappingWorkerError` before any STATE covers its records. Workers ignore SIGINT: on Ctrl-C the main process
  exits 130 (`interruption.py`) and each worker, seeing its pipe close, exits too.

Workers are forked when the run starts (`TargetAEP.listen`), before any thread of the run exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import traceback
import typing as t
from collections import deque
from dataclasses import dataclass, field

from target_aep.json_lines import decode_line_bytes, encode_line
from target_aep.reader import decode_message, repeated_key_error
from target_aep.xdm import XdmValidator, build_mapper
from target_aep.xdm.commerce import unconvertible_amount

if t.TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from target_aep.sinks import AEPSink
    from target_aep.xdm import XdmMapper
    from target_aep.xdm.repairs import Repair

# Records a chunk sent to a worker holds (about 1 KB each, under `PIPE_BYTES`): a worker maps them grouped by stream
# (`map_chunk`), and 512 gave the benchmark's batch run 5% less CPU than 256 for 12 MB more held.
CHUNK_RECORDS = 512
# Without workers a chunk only groups records by stream for `map_chunk`: larger groups map faster (14% less CPU
# than one record at a time at 256 records, 7% less again at 1,024 on the benchmark's 52 streams), 8 MB more held.
CHUNK_RECORDS_HERE = 1024
PIPE_BYTES = 1 << 20
IN_FLIGHT_PER_WORKER = 4
# Keys the SDK removes from a record before the sink sees it (`record_dispatch`); the worker decodes the raw line.
SDC_KEYS = (
    "_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at", "_sdc_sequence",
    "_sdc_table_version",
)  # fmt: skip

# One record's outcome: (XDM line, None, its `_id` if repaired, repairs or None) or (None, reasons, None, None).
Outcome = tuple[bytes | None, list[str] | None, t.Any, "list[Repair] | None"]
Stages = dict[str, float]
# What the main process reads from a record it did not decode (`map_lines`): its key (the key property's value,
# or a tuple of them) and its `updated` when that is a string; or, for a line that is not the RECORD it was read
# as, `MALFORMED` (not JSON, not UTF-8) or `NOT_AS_READ` (its head said one thing, a repeated key another).
RecordFacts = tuple[t.Any, str | None]
MALFORMED = 0
NOT_AS_READ = 1
_NOT_MAPPED: Outcome = (None, None, None, None)


class MappingWorkerError(RuntimeError):
    """A mapping worker process stopped: the run ends before any STATE covers the records it held."""


# Beyond this many, the main process (reading every line and completing each record, about 20 µs a record against a
# worker's 45-60) is the limit: more workers would only take memory (about 80 MB each).
MAX_DEFAULT_WORKERS = 3


def default_worker_count() -> int:
    """`mapping_workers` when not set: one per core beside the main process's (0 on one core), at most 3."""
    return min(MAX_DEFAULT_WORKERS, max(0, (os.cpu_count() or 1) - 1))


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
    line = encode_line(xdm)
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
    outcomes: list[Outcome] = []
    for xdm, record_repairs, record_reasons in zip(xdms, repairs, reasons, strict=True):
        if xdm is None:
            outcomes.append((None, record_reasons, None, None))
        elif record_repairs:
            outcomes.append((encode_line(xdm), None, xdm.get("_id"), record_repairs))
        else:
            outcomes.append((encode_line(xdm), None, None, None))
    stages["mapping"] += mapped - started
    stages["validation"] += validated - mapped
    stages["serialization"] += time.perf_counter() - validated
    return outcomes


# What maps a stream's records: its name, mapper and validator, and the stage timings to add to.
MappingTools = tuple[str, "XdmMapper", XdmValidator, Stages]


def map_chunk(keys: list[int], records: list[dict], tools: t.Callable[[int], MappingTools]) -> list[Outcome]:
    """The outcomes of ``records`` in their order, the records of each stream (the same entry in ``keys``)
    mapped as one group (`map_group`) with ``tools(key)``; completion stays in input order."""
    positions: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        found = positions.get(key)
        if found is None:
            positions[key] = [index]
        else:
            found.append(index)
    outcomes: list[t.Any] = [None] * len(records)
    for key, indexes in positions.items():
        stream, mapper, validator, stages = tools(key)
        for index, outcome in zip(
            indexes, map_group(stream, mapper, validator, [records[i] for i in indexes], stages), strict=True
        ):
            outcomes[index] = outcome
    return outcomes


# What maps a RECORD line of a stream: `MappingTools` and the stream's key properties.
LineTools = tuple[MappingTools, tuple[str, ...]]


def map_lines(lines: list[tuple[int, bytes]], tools: t.Callable[[int], LineTools]) -> tuple[list[Outcome], list[t.Any]]:
    """The outcomes of the RECORD ``lines`` (stream key, line bytes) in their order, and what the main process
    reads from each record (`RecordFacts`, or `MALFORMED` / `NOT_AS_READ`): a worker's whole job on a chunk.

    Each line is decoded as the reader decodes it and checked to be the RECORD of its stream it was read as
    (`record_head`); the ``_sdc_*`` keys go as `record_dispatch` removes them; a record missing a key property is
    rejected first, as the sink does; the others are mapped grouped by stream (`map_chunk`).
    """
    outcomes: list[Outcome] = [_NOT_MAPPED] * len(lines)
    facts: list[t.Any] = [None] * len(lines)
    keys: list[int] = []
    records: list[dict] = []
    places: list[int] = []
    streams: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}  # key -> stream, key properties, names
    for index in _grouped_by_key(lines):
        key, raw = lines[index]
        try:
            message = decode_line_bytes(raw)
        except ValueError:  # json.JSONDecodeError, UnicodeDecodeError: the reader's error, in the main process
            facts[index] = MALFORMED
            continue
        known = streams.get(key)
        if known is None:
            (stream_name, _, _, _), key_properties = tools(key)
            known = streams[key] = (stream_name, key_properties, key_properties or ("id",))
        stream, key_properties, names = known
        record = message.get("record") if type(message) is dict else None
        if type(record) is not dict or message.get("type") != "RECORD" or message.get("stream") != stream:
            facts[index] = NOT_AS_READ
            continue
        for sdc in SDC_KEYS:
            if sdc in record:
                del record[sdc]
        updated = record.get("updated")
        facts[index] = (
            record.get(names[0]) if len(names) == 1 else tuple(map(record.get, names)),
            updated if isinstance(updated, str) else None,
        )
        if (reasons := missing_key_reasons(record, key_properties, names)) is not None:
            outcomes[index] = (None, reasons, None, None)
            continue
        keys.append(key)
        records.append(record)
        places.append(index)
    for index, outcome in zip(places, map_chunk(keys, records, lambda key: tools(key)[0]), strict=True):
        outcomes[index] = outcome
    return outcomes, facts


def _grouped_by_key(lines: list[tuple[int, bytes]]) -> list[int]:
    """The indexes of ``lines``, those of each stream key together, each key's in input order, the keys in the order
    of their first line. Decoding one stream's lines in a row costs less than in input order, where the stream
    changes at almost every line: the JSON decoder's cache of object keys (`orjson`'s, of bounded size) then
    holds one stream's keys instead of losing them to 50 others' (the benchmark's 100,000 lines: 0.45 s against
    0.57 s of CPU, `orjson.loads` alone 0.30 against 0.40)."""
    positions: dict[int, list[int]] = {}
    for index, (key, _) in enumerate(lines):
        found = positions.get(key)
        if found is None:
            positions[key] = [index]
        else:
            found.append(index)
    if len(positions) == 1:
        return next(iter(positions.values()))
    return [index for indexes in positions.values() for index in indexes]


@dataclass(frozen=True)
class MapperArgs:
    """What builds a stream's mapper (`TargetRuntime.mapper`): sent once to each worker that maps the stream."""

    stream: str
    schema: dict
    tenant_id: str
    identity_namespace: str
    override: dict | None

    def build_mapper(self) -> XdmMapper:
        return build_mapper(
            self.stream,
            self.schema,
            tenant_id=self.tenant_id,
            identity_namespace=self.identity_namespace,
            override=self.override,
        )


def _worker_main(chunks_in: Connection, outcomes_out: Connection, inherited: list[Connection]) -> None:
    """A worker: chunks of (stream key, raw line) in, outcomes out, until its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle (see the docstring)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for other in inherited:  # the main process's ends: held here, they would keep a pipe from ever closing
        other.close()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)  # as `gc_policy` in the main process: records die by reference counting
    # Chunks are read by a thread as they come: the main process may be sending the next chunk while this one
    # sends its reply, and with both pipes full each would wait for the other for ever.
    chunks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_chunks, args=(chunks_in, chunks), daemon=True).start()
    streams: dict[int, tuple[str, XdmMapper, XdmValidator, set[str], tuple[str, ...]]] = {}
    while True:
        message = chunks.get()
        if message is None:  # the main process closed its end: the run is over (or was stopped)
            return
        try:
            new_streams, items = pickle.loads(message)
            for key, (args, key_properties) in new_streams:
                mapper, validator = args.build_mapper(), XdmValidator.for_schema(args.schema)
                streams[key] = (args.stream, mapper, validator, set(), key_properties)
            stages: dict[int, Stages] = {}
            outcomes, facts = map_lines(items, _WorkerTools(streams, stages))
            unplaced = {}
            for key in stages:
                _, mapper, _, reported, _ = streams[key]
                if len(mapper.repairs.unplaced) != len(reported):
                    unplaced[key] = mapper.repairs.unplaced - reported
                    reported |= unplaced[key]
            reply = pickle.dumps(("ok", (outcomes, facts), stages, unplaced), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not a record's mapping (those are outcomes): the run cannot go on without this chunk
            with contextlib.suppress(OSError):
                outcomes_out.send_bytes(pickle.dumps(("error", traceback.format_exc(), None, None)))
            return
        try:
            outcomes_out.send_bytes(reply)
        except OSError:  # the main process is gone (stopped by a signal, or failed): nothing left to map for
            return


@dataclass
class _WorkerTools:
    """`map_lines`'s tools in a worker: each stream's timings kept apart, to be added to its sink's."""

    streams: dict[int, tuple[str, XdmMapper, XdmValidator, set[str], tuple[str, ...]]]
    stages: dict[int, Stages]

    def __call__(self, key: int) -> LineTools:
        stream, mapper, validator, _, key_properties = self.streams[key]
        stages = self.stages.get(key)
        if stages is None:
            stages = self.stages[key] = {"mapping": 0.0, "validation": 0.0, "serialization": 0.0}
        return (stream, mapper, validator, stages), key_properties


def _read_chunks(conn: Connection, chunks: queue.SimpleQueue[bytes | None]) -> None:
    try:
        while True:
            chunks.put(conn.recv_bytes())
    except (EOFError, OSError):
        chunks.put(None)


def _pipe(context: t.Any) -> tuple[Connection, Connection]:
    """A one-way pipe (reading end, writing end) holding `PIPE_BYTES`: a chunk (about 1 KB a record) or its
    outcomes are written whole without waiting for the reader. With the default 64 KB, the main process waited
    for the worker's reading thread to get the GIL (up to 5 ms) on every chunk, and a worker with its outcomes
    written waited for the main process to read them instead of mapping the next chunk."""
    reader, writer = context.Pipe(duplex=False)
    with contextlib.suppress(OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size: the default size
        fcntl.fcntl(writer.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    return reader, writer


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    chunks_out: Connection
    outcomes_in: Connection
    in_flight: int = 0
    known: set[int] = field(default_factory=set)


@dataclass
class _Chunk:
    # (sink, record or None when its line was not decoded here, context, reasons to reject it before mapping or
    # None, its input line number) in input order
    entries: list[tuple[AEPSink, dict | None, dict, list[str] | None, int]] = field(default_factory=list)
    lines: list[tuple[int, bytes]] = field(default_factory=list)  # (stream key, raw line) of those to map
    undecoded: bool = False  # whether some entries have no record (`submit_line`)
    worker: _Worker | None = None
    mapped: tuple[list[Outcome], list[t.Any]] | None = None  # set when mapped by the main process


class MappingPool:
    """The workers of one run and the chunks on their way (see the module docstring)."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        pipes = [(_pipe(context), _pipe(context)) for _ in range(workers)]
        main_ends = [end for (_, chunks_out), (outcomes_in, _) in pipes for end in (chunks_out, outcomes_in)]
        self._workers: list[_Worker] = []
        for (chunks_in, chunks_out), (outcomes_in, outcomes_out) in pipes:
            process = context.Process(
                target=_worker_main,
                args=(chunks_in, outcomes_out, main_ends),
                name="target-aep-mapping",
                daemon=True,
            )
            process.start()
            chunks_in.close()
            outcomes_out.close()
            self._workers.append(_Worker(process, chunks_out, outcomes_in))
        self._keys: dict[AEPSink, int] = {}
        self._args: list[tuple[MapperArgs, tuple[str, ...]]] = []
        self._sinks: list[AEPSink] = []
        self._current = _Chunk()
        self._queue: deque[_Chunk] = deque()
        self._lock = threading.RLock()
        self._next_worker = 0
        self.mapped_by_workers = 0  # records, for the end-of-run log line
        self.mapped_here = 0
        self._chunk_records = CHUNK_RECORDS if workers else CHUNK_RECORDS_HERE

    @property
    def pending(self) -> bool:
        """Records submitted and not yet completed."""
        return bool(self._queue or self._current.entries)

    @property
    def has_workers(self) -> bool:
        """Whether RECORD lines are mapped in worker processes (which then decode them: `submit_line`)."""
        return bool(self._workers)

    def submit(
        self, sink: AEPSink, record: dict, context: dict, raw_line: bytes | None, reasons: list[str] | None
    ) -> None:
        """Queue one record: `raw_line` to be mapped, or `reasons` to reject it (in its place in the order)."""
        chunk = self._current
        chunk.entries.append((sink, record, context, reasons, 0))
        if reasons is None:
            key = self._keys.get(sink)
            chunk.lines.append((self._key(sink) if key is None else key, raw_line))  # type: ignore[arg-type]
        if len(chunk.entries) >= self._chunk_records:
            with self._lock:
                self._dispatch()

    def submit_line(self, sink: AEPSink, raw_line: bytes, context: dict, line_number: int) -> None:
        """Queue one RECORD line the main process did not decode (`record_head`): a worker (without workers,
        `_map_here`) decodes it, rejects it if a key property is missing, maps it and returns what the sink needs
        of the record (`map_lines`); the main process decodes it again only to dead-letter it or to name a
        malformed line (`_complete_head`)."""
        chunk = self._current
        chunk.entries.append((sink, None, context, None, line_number))
        chunk.lines.append((self._key(sink), raw_line))
        chunk.undecoded = True
        if len(chunk.entries) >= self._chunk_records:
            with self._lock:
                self._dispatch()

    def _key(self, sink: AEPSink) -> int:
        key = self._keys.get(sink)
        if key is None:
            key = self._keys[sink] = len(self._args)
            self._args.append((sink.mapper_args, tuple(sink.key_properties)))
            self._sinks.append(sink)
        return key

    def complete_all(self) -> None:
        """Complete every record submitted so far, in order (before a drain, hence before any STATE)."""
        with self._lock:
            if self._current.entries:
                self._map_here(self._current)
                self._queue.append(self._current)
                self._current = _Chunk()
            while self._queue:
                self._complete_head()

    def _dispatch(self) -> None:
        chunk, self._current = self._current, _Chunk()
        while self._queue and self._head_ready():
            self._complete_head()
        worker = self._free_worker() if chunk.lines else None
        if worker is None:
            self._map_here(chunk)  # every worker is busy: the main process takes this one (see the docstring)
        else:
            new = {key: self._args[key] for key, _ in chunk.lines if key not in worker.known}  # its first records
            worker.known.update(new)
            self._send(worker, pickle.dumps((list(new.items()), chunk.lines), protocol=pickle.HIGHEST_PROTOCOL))
            worker.in_flight += 1
            chunk.worker = worker
            self.mapped_by_workers += len(chunk.lines)
        self._queue.append(chunk)
        while len(self._queue) > len(self._workers) * IN_FLIGHT_PER_WORKER + 2:  # bounded memory
            self._complete_head()

    def _free_worker(self) -> _Worker | None:
        for offset in range(len(self._workers)):
            worker = self._workers[(self._next_worker + offset) % len(self._workers)]
            if worker.in_flight < IN_FLIGHT_PER_WORKER:
                self._next_worker = (self._next_worker + offset + 1) % len(self._workers)
                return worker
        return None

    def _head_ready(self) -> bool:
        head = self._queue[0]
        return head.worker is None or head.worker.outcomes_in.poll()

    def _map_here(self, chunk: _Chunk) -> None:
        if chunk.undecoded:  # lines a worker would have decoded (every worker is busy): decoded here instead
            chunk.mapped = map_lines(chunk.lines, self._line_tools)
        else:
            # Every entry has its record here (no `submit_line` in this chunk).
            records = [t.cast(dict, record) for _, record, _, reasons, _ in chunk.entries if reasons is None]
            outcomes = map_chunk([key for key, _ in chunk.lines], records, self._tools)
            chunk.mapped = outcomes, [None] * len(outcomes)
        self.mapped_here += len(chunk.lines)

    def _tools(self, key: int) -> MappingTools:
        sink = self._sinks[key]
        return sink.stream_name, sink.mapper, sink.validator, sink.stage_seconds

    def _line_tools(self, key: int) -> LineTools:
        return self._tools(key), self._args[key][1]

    def _complete_head(self) -> None:
        chunk = self._queue.popleft()
        mapped = chunk.mapped
        if mapped is None:
            assert chunk.worker is not None
            mapped = self._receive(chunk.worker)
        results = zip(chunk.lines, *mapped, strict=True)
        for sink, record, context, reasons, line_number in chunk.entries:
            if reasons is not None:
                sink.reject(record, reasons)  # type: ignore[arg-type]
                continue
            (_, raw_line), outcome, facts = next(results)
            if record is not None:
                sink.complete_record(record, context, outcome)
            elif type(facts) is tuple:
                sink.complete_line(raw_line, context, outcome, facts)
            elif facts == NOT_AS_READ:
                raise repeated_key_error(line_number)
            else:  # the reader's own error for this line (the same decoder failed in the worker)
                decode_message(raw_line, line_number)
                raise MappingWorkerError(f"input line {line_number} could not be decoded in a mapping worker")

    def _receive(self, worker: _Worker) -> tuple[list[Outcome], list[t.Any]]:
        try:
            status, outcomes, stages, unplaced = pickle.loads(worker.outcomes_in.recv_bytes())
        except (EOFError, OSError):
            raise MappingWorkerError(self._stopped(worker)) from None
        if status != "ok":
            raise MappingWorkerError(f"a mapping worker failed: {outcomes.strip().splitlines()[-1]}")
        worker.in_flight -= 1
        for key, seconds in stages.items():
            stage_seconds = self._sinks[key].stage_seconds
            for name, value in seconds.items():
                stage_seconds[name] += value
        for key, fields in unplaced.items():
            self._sinks[key].mapper.repairs.unplaced.update(fields)
        return outcomes  # type: ignore[no-any-return]  # (outcomes, facts) from `map_lines`

    def _send(self, worker: _Worker, message: bytes) -> None:
        try:
            worker.chunks_out.send_bytes(message)
        except OSError:
            raise MappingWorkerError(self._stopped(worker)) from None

    @staticmethod
    def _stopped(worker: _Worker) -> str:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return (
            f"mapping worker process {worker.process.pid} stopped ({how}) with records in hand; no STATE was "
            "written past them (set mapping_workers to 0 to map in the main process)"
        )

    def close(self) -> None:
        """Close the pipes (each worker then exits) and reap the workers."""
        for worker in self._workers:
            for end in (worker.chunks_out, worker.outcomes_in):
                with contextlib.suppress(OSError):
                    end.close()
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
