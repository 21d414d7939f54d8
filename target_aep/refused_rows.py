"""The rows AEP refused in a failed batch, traced back to the records they came from, in the dead-letter file.

When AEP fails a batch, ``trace_refused_rows`` reads AEP's row errors (``aep/row_errors.py``), finds for each
the line the target sent and so the stream and Stripe id it was built from (a batch carries one or more streams
of its dataset, each in its own files: the file AEP names says the stream, ``dataset_batches.py``), and writes one
dead-letter entry per refused row: the same entry as the target's own rejects (``stream``, ``id``, ``reasons``,
``record``, ``time``) with ``record`` the XDM row as sent (batch mode keeps only those, not the Stripe records)
plus ``batch_id``, ``dataset_id`` and ``aep_errors`` (AEP's codes and messages). The run report counts them per stream.

The batch's error then says what became of its rows, and is raised on: a failed batch still ends the run
without any STATE past it, so the next run sends every row of it again (see ``aep/batch_ingestion.py`` for why
partial ingestion is not used).
"""

from __future__ import annotations

import typing as t

from target_aep.aep.row_errors import LineMatcher, RowErrorsUnavailableError, lookup_hint

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from target_aep.aep.errors import BatchFailedError
    from target_aep.aep.row_errors import FailedRow, RowErrorReader
    from target_aep.dataset_batches import StreamPart
    from target_aep.dead_letter import DeadLetterFile
    from target_aep.report import RunReport


def trace_refused_rows(
    failed: BatchFailedError,
    *,
    parts: Sequence[StreamPart],
    part_of_file: dict[str, int],
    reader: RowErrorReader,
    dead_letters: DeadLetterFile,
    report: RunReport,
) -> None:
    """Dead-letter each row AEP refused in the ``failed`` batch under its stream, and say so in ``failed``'s message.

    ``parts`` are the batch's streams as sent (``parts[k].record_ids[i]`` the Stripe id, or key, of the record of
    ``parts[k].lines[i]``) and ``part_of_file`` the part each uploaded file holds: AEP names a refused row's file,
    which says its stream. A row whose file is not named (or not known) is looked for in every part.
    """
    for part in parts:
        report.add(part.stream, in_failed_batches=len(part.lines))
    if failed.status != "failed":  # aborted: AEP judged no row
        return
    matchers = [LineMatcher(part.lines) for part in parts]
    refused = untraced = 0
    try:
        for row in reader.failed_rows(failed.batch_id):
            at = part_of_file.get(row.file_name.rsplit("/", 1)[-1])
            index = matchers[at].find(row) if at is not None else None
            if index is None:
                at, index = _anywhere(matchers, row, default=at if at is not None else 0)
            part = parts[at]
            record_id = part.record_ids[index] if index is not None else None
            untraced += index is None
            dead_letters.reject(
                part.stream,
                row.row if row.row is not None else row.sent_text,
                _reasons(failed.batch_id, row),
                record_id,
                details={
                    "batch_id": failed.batch_id,
                    "dataset_id": failed.dataset_id,
                    "aep_errors": [{"code": e.code, "message": e.message} for e in row.errors],
                },
            )
            report.reject_by_aep(part.stream, _reason_kind(row), record_id)
            refused += 1
    except RowErrorsUnavailableError as exc:
        so_far = f" ({refused} rows already written to {dead_letters.path})" if refused else ""
        failed.rows_verdict = (
            f"Its row errors could not be read{so_far}: {exc}. To see which records AEP refused and why, "
            f"{lookup_hint(failed.batch_id)}"
        )
        return
    sent = sum(len(part.lines) for part in parts)
    failed.rows_verdict = _verdict(refused, untraced, sent, [part.stream for part in parts], str(dead_letters.path))


def _anywhere(matchers: list[LineMatcher], row: FailedRow, default: int) -> tuple[int, int | None]:
    """The part and line of a row whose file did not say where it is; ``default`` and None if no part has it."""
    for at, matcher in enumerate(matchers):
        index = matcher.find(row)
        if index is not None:
            return at, index
    return default, None


def _reason_kind(row: FailedRow) -> str:
    """The report's tally of a refused row: AEP's first code and message, without the batch id."""
    if not row.errors:
        return "rejected by AEP (no reason given)"
    return f"rejected by AEP: {row.errors[0].code}: {row.errors[0].message}"


def _reasons(batch_id: str, row: FailedRow) -> list[str]:
    if not row.errors:
        return [f"rejected by AEP in batch {batch_id} (no reason given)"]
    return [f"rejected by AEP in batch {batch_id}: {error.code}: {error.message}" for error in row.errors]


def _verdict(refused: int, untraced: int, sent: int, streams: list[str], dead_letter_path: str) -> str:
    carried = f" (streams {', '.join(streams)})" if len(streams) > 1 else ""
    not_landed = (
        f"None of its {sent} rows{carried} landed and no STATE passed them: fix the cause (often the dataset's schema "
        "changed after the run read it) and rerun, which sends them again"
    )
    if not refused:
        return f"AEP named no refused row (the batch failed as a whole). {not_landed}"
    traced = (
        f" ({untraced} could not be traced to a record the target sent: their entry has the row as AEP gave it)"
        if untraced
        else ""
    )
    return (
        f"AEP refused {refused} of its {sent} rows: each is in {dead_letter_path} with its stream, Stripe id, and "
        f"AEP's code and message{traced}. {not_landed}"
    )
