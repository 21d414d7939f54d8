"""A mapping worker process: chunks of raw RECORD lines in, their outcomes out, until its pipe closes; and what
builds a stream's mapper in it (`MapperArgs`)."""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import signal
import threading
import traceback
import typing as t
from dataclasses import dataclass

from target_aep.gc_policy import YOUNG_GENERATION_THRESHOLD
from target_aep.mapping_workers.lines import LineTools, map_lines
from target_aep.mapping_workers.records import Stages
from target_aep.mapping_workers.transport import FrameReader, split_outcomes, write_frame
from target_aep.xdm import XdmValidator, build_mapper

if t.TYPE_CHECKING:
    from target_aep.xdm import XdmMapper


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


def worker_main(chunks_in: int, outcomes_out: int, inherited: list[int]) -> None:
    """A worker: chunks of (stream key, raw line) in, outcomes out, until its pipe closes (`transport`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle (see the docstring)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for other in inherited:  # the main process's ends: held here, they would keep a pipe from ever closing
        os.close(other)
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 10, 10)  # as `gc_policy` in the main process
    # Chunks are read by a thread as they come: the main process may be sending the next chunk while this one
    # sends its reply, and with both pipes full each would wait for the other for ever.
    chunks: queue.SimpleQueue[tuple[t.Any, list[bytes]] | None] = queue.SimpleQueue()
    threading.Thread(target=_read_chunks, args=(FrameReader(chunks_in), chunks), daemon=True).start()
    streams: dict[int, tuple[str, XdmMapper, XdmValidator, set[str], tuple[str, ...]]] = {}
    while True:
        message = chunks.get()
        if message is None:  # the main process closed its end: the run is over (or was stopped)
            return
        try:
            (new_streams, keys), lines = message
            for key, (args, key_properties) in new_streams:
                mapper, validator = args.build_mapper(), XdmValidator.for_schema(args.schema)
                streams[key] = (args.stream, mapper, validator, set(), key_properties)
            stages: dict[int, Stages] = {}
            outcomes, facts = map_lines(keys, lines, _WorkerTools(streams, stages))
            unplaced = {}
            for key in stages:
                _, mapper, _, reported, _ = streams[key]
                if len(mapper.repairs.unplaced) != len(reported):
                    unplaced[key] = mapper.repairs.unplaced - reported
                    reported |= unplaced[key]
            xdm_lines, rest = split_outcomes(outcomes)
        except Exception:  # not a record's mapping (those are outcomes): the run cannot go on without this chunk
            with contextlib.suppress(OSError):
                write_frame(outcomes_out, ("error", traceback.format_exc()), [])
            return
        try:
            write_frame(outcomes_out, ("ok", (rest, facts, stages, unplaced)), xdm_lines)
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


def _read_chunks(reader: FrameReader, chunks: queue.SimpleQueue[tuple[t.Any, list[bytes]] | None]) -> None:
    try:
        while True:
            chunks.put(reader.read())
    except (EOFError, OSError):
        chunks.put(None)
