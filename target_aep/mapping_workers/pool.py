"""The mapping workers of one run (`MappingPool`): records gathered in chunks, sent to a worker or mapped here,
and completed strictly in input order (see the package's docstring)."""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import select
import threading
import typing as t
from collections import deque
from dataclasses import dataclass, field

from target_aep.mapping_workers.lines import NOT_AS_READ, LineTools, map_lines
from target_aep.mapping_workers.records import MappingTools, Outcome, map_chunk
from target_aep.mapping_workers.transport import FrameReader, join_outcomes, write_frame
from target_aep.mapping_workers.worker import MapperArgs, worker_main
from target_aep.reader import decode_message, repeated_key_error

if t.TYPE_CHECKING:
    from target_aep.sinks import AEPSink

# Records a chunk sent to a worker holds (about 1 KB each, under `PIPE_BYTES`): a worker maps them grouped by stream
# (`map_chunk`), and 512 gave the benchmark's batch run 5% less CPU than 256 for 12 MB more held.
CHUNK_RECORDS = 512
# Without workers a chunk only groups records by stream for `map_chunk`: larger groups map faster (14% less CPU
# than one record at a time at 256 records, 7% less again at 1,024 on the benchmark's 52 streams), 8 MB more held.
CHUNK_RECORDS_HERE = 1024
PIPE_BYTES = 1 << 20
IN_FLIGHT_PER_WORKER = 4


class MappingWorkerError(RuntimeError):
    """A mapping worker process stopped: the run ends before any STATE covers the records it held."""


# Beyond this many, the main process (reading every line and completing each record, about 20 µs a record against a
# worker's 45-60) is the limit: more workers would only take memory (about 80 MB each).
MAX_DEFAULT_WORKERS = 3


def default_worker_count() -> int:
    """`mapping_workers` when not set: one per core beside the main process's (0 on one core), at most 3."""
    return min(MAX_DEFAULT_WORKERS, max(0, (os.cpu_count() or 1) - 1))


def _pipe() -> tuple[int, int]:
    """A one-way pipe (reading end, writing end) holding `PIPE_BYTES`: a chunk (about 1 KB a record) or its
    outcomes are written whole without waiting for the reader. With the default 64 KB, the main process waited
    for the worker's reading thread to get the GIL (up to 5 ms) on every chunk, and a worker with its outcomes
    written waited for the main process to read them instead of mapping the next chunk."""
    reader, writer = os.pipe()
    with contextlib.suppress(OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size: the default size
        fcntl.fcntl(writer, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    return reader, writer


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    chunks_out: int  # the writing end of the pipe of chunks to the worker
    outcomes_in: FrameReader  # the reading end of the pipe of outcomes back
    outcomes_ready: t.Any  # a `select.poll` of `outcomes_in`: whether the next outcomes have come
    in_flight: int = 0
    known: set[int] = field(default_factory=set)


@dataclass
class _Chunk:
    # (sink, record or None when its line was not decoded here, context, reasons to reject it before mapping or
    # None, its input line number) in input order
    entries: list[tuple[AEPSink, dict | None, dict, list[str] | None, int]] = field(default_factory=list)
    # The stream key and raw line of each entry to map, in two lists: what a worker is sent (`transport`) without a
    # tuple a record
    keys: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    undecoded: bool = False  # whether some entries have no record (`submit_line`)
    decoded: bool = False  # whether some entries have their record or reasons (`submit`)
    worker: _Worker | None = None
    mapped: tuple[list[Outcome], list[t.Any]] | None = None  # set when mapped by the main process


class MappingPool:
    """The workers of one run and the chunks on their way (see the module docstring)."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        pipes = [(_pipe(), _pipe()) for _ in range(workers)]
        main_ends = [end for (_, chunks_out), (outcomes_in, _) in pipes for end in (chunks_out, outcomes_in)]
        self._workers: list[_Worker] = []
        for (chunks_in, chunks_out), (outcomes_in, outcomes_out) in pipes:
            process = context.Process(
                target=worker_main,
                args=(chunks_in, outcomes_out, main_ends),
                name="target-aep-mapping",
                daemon=True,
            )
            process.start()
            os.close(chunks_in)
            os.close(outcomes_out)
            ready = select.poll()
            ready.register(outcomes_in, select.POLLIN)
            self._workers.append(_Worker(process, chunks_out, FrameReader(outcomes_in), ready))
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

    def submit(
        self, sink: AEPSink, record: dict, context: dict, raw_line: bytes | None, reasons: list[str] | None
    ) -> None:
        """Queue one record: `raw_line` to be mapped, or `reasons` to reject it (in its place in the order)."""
        chunk = self._current
        chunk.entries.append((sink, record, context, reasons, 0))
        chunk.decoded = True
        if reasons is None:
            key = self._keys.get(sink)
            chunk.keys.append(self._key(sink) if key is None else key)
            chunk.lines.append(raw_line)  # type: ignore[arg-type]
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
        key = self._keys.get(sink)
        chunk.keys.append(self._key(sink) if key is None else key)
        chunk.lines.append(raw_line)
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
            known = worker.known
            new = {key: self._args[key] for key in set(chunk.keys) if key not in known}  # its first records
            known.update(new)
            self._send(worker, (list(new.items()), chunk.keys), chunk.lines)
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
        return head.worker is None or bool(head.worker.outcomes_ready.poll(0))

    def _map_here(self, chunk: _Chunk) -> None:
        if chunk.undecoded:  # lines a worker would have decoded (every worker is busy): decoded here instead
            chunk.mapped = map_lines(chunk.keys, chunk.lines, self._line_tools)
        else:
            # Every entry has its record here (no `submit_line` in this chunk).
            records = [t.cast(dict, record) for _, record, _, reasons, _ in chunk.entries if reasons is None]
            outcomes = map_chunk(chunk.keys, records, self._tools)
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
        if not chunk.decoded and _all_plain(mapped[0]):
            _finish_grouped(chunk.entries, *mapped)
            return
        next_result = zip(chunk.lines, *mapped, strict=True).__next__
        for sink, record, context, reasons, line_number in chunk.entries:
            if reasons is not None:
                sink.reject(record, reasons)  # type: ignore[arg-type]
                continue
            raw_line, outcome, facts = next_result()
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
            (status, result), lines = worker.outcomes_in.read()
        except (EOFError, OSError):
            raise MappingWorkerError(self._stopped(worker)) from None
        if status != "ok":
            raise MappingWorkerError(f"a mapping worker failed: {result.strip().splitlines()[-1]}")
        rest, facts, stages, unplaced = result
        worker.in_flight -= 1
        for key, seconds in stages.items():
            stage_seconds = self._sinks[key].stage_seconds
            for name, value in seconds.items():
                stage_seconds[name] += value
        for key, fields in unplaced.items():
            self._sinks[key].mapper.repairs.unplaced.update(fields)
        return join_outcomes(len(facts), lines, rest), facts

    def _send(self, worker: _Worker, meta: object, lines: list[bytes]) -> None:
        try:
            write_frame(worker.chunks_out, meta, lines)
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
            for end in (worker.chunks_out, worker.outcomes_in.fd):
                with contextlib.suppress(OSError):
                    os.close(end)
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()


def _all_plain(outcomes: list[Outcome]) -> bool:
    """Whether every outcome is an XDM line without repairs: nothing in the chunk is rejected, malformed or
    repaired (the common case), so its records may be finished grouped by batch (`_finish_grouped`)."""
    return all(line is not None and not repairs for line, _, _, repairs in outcomes)


def _finish_grouped(
    entries: list[tuple[AEPSink, dict | None, dict, list[str] | None, int]],
    outcomes: list[Outcome],
    facts: list[t.Any],
) -> None:
    """`AEPSink.complete_line` for every entry of a chunk of undecoded lines that all mapped to plain XDM lines
    (`_all_plain`), one call per stream's batch instead of one per record: on the benchmark's interleaved input,
    where the stream changes at almost every record, the per-record calls and look-ups were about 0.15 s of CPU
    in 100,000 records. Each batch gets its lines, keys and live changes in input order, exactly as record by
    record; only the order in which different batches grow changes, which nothing reads before the chunk is done
    (the shared buffer's check and a drain come after `complete_all`). Rejects, dead letters and repairs have an
    order across streams (their files): a chunk with any of those is completed record by record."""
    batches: dict[int, tuple[AEPSink, dict, list[bytes], list[t.Any]]] = {}
    for (sink, _, context, _, _), outcome, record_facts in zip(entries, outcomes, facts, strict=True):
        batch = batches.get(id(context))
        if batch is None:
            batch = batches[id(context)] = (sink, context, [], [])
        batch[2].append(outcome[0])  # type: ignore[arg-type]  # a line in every outcome (`_all_plain`)
        batch[3].append(record_facts)
    for sink, context, xdm_lines, batch_facts in batches.values():
        sink.complete_lines(context, xdm_lines, batch_facts)
