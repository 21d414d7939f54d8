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

Modules, one job each: `records` (a record's mapping, validation and serialization, one at a time or grouped by
stream: `map_one`, `map_group`, `map_chunk`; used by the sink without workers too), `lines` (a worker's job on raw
RECORD lines: `map_lines`), `worker` (a worker process: its start-up and loop), `transport` (what crosses a pipe
and how it is framed: lines as they are, never pickled), `pool` (the workers of a run, the chunks on their way and
their completion in input order: `MappingPool`).
"""
