"""Streams whose records the target received but did not send (no destination), and the STATE that stays safe.

The promise: no STATE line the target writes passes a record it did not deliver. A stream with no ``datasets``
entry (or, in ``output_dir`` mode, no schema) would break it, because the tap's STATE carries that stream's
bookmark forward like any other. So:

- by default a run that receives such a record writes no STATE from then on and fails at the end of its input,
  naming every such stream (``TargetAEP._write_state_message``);
- with ``skip_streams_without_dataset``, every STATE it writes carries, for each such stream, the bookmark that
  stream had in the last STATE received *before its first record*, or no bookmark at all when that STATE had none
  (or no STATE came before it).

Why "as it was before its first record, else removed", rather than always removed or always kept:

- A shell pipe keeps the last STATE line as the next run's ``--state``, and Meltano's default state strategy
  stores each STATE line whole (``Payload.STATE``). The stream then resumes from its bookmark of before this run,
  or reads its whole history when it had none: its records are read again either way. Always removing the
  bookmark would be as safe but would make a stream that was delivered until yesterday re-read all its history.
- With ``--full-refresh`` or ``--state-strategy merge`` Meltano deep-merges each STATE line into the state it has
  stored (``Payload.INCOMPLETE_STATE``, ``MeltanoState.merge_partial``). A removed bookmark leaves the stored one,
  written by an earlier run under this same promise; a restored one replaces it with this run's value from
  before the stream's records (the tap's ``partitions`` list is replaced whole). Neither passes a skipped record.
- The bookmark in the last STATE before the stream's first record can only hold progress made without any of its
  records (a Singer tap writes STATE after the records it covers), so nothing skipped lies behind it. Any later
  STATE may have moved past skipped records, which is why the bookmark is frozen at that point for the rest of
  the run.
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Callable, Iterable


class UndeliveredStreams:
    """Records which streams had records not sent, and holds their bookmarks back in outgoing STATE.

    Called from the reading thread only (records and STATE messages are read one after another).
    """

    def __init__(self) -> None:
        self._latest_state: t.Mapping[str, t.Any] | None = None
        # stream -> the ``bookmarks`` of the last STATE received before its first record
        self._bookmarks_before: dict[str, dict[str, t.Any]] = {}

    def __bool__(self) -> bool:
        return bool(self._bookmarks_before)

    @property
    def streams(self) -> list[str]:
        """Every stream that had records not sent, sorted."""
        return sorted(self._bookmarks_before)

    def saw_state(self, state: t.Mapping[str, t.Any] | None) -> None:
        """Note the latest STATE received from the tap (before any record that follows it)."""
        self._latest_state = state

    def record_received(self, stream: str) -> bool:
        """Note a record of ``stream`` that is not sent; True for the stream's first one."""
        if stream in self._bookmarks_before:
            return False
        bookmarks = (self._latest_state or {}).get("bookmarks")
        self._bookmarks_before[stream] = copy.deepcopy(bookmarks) if isinstance(bookmarks, dict) else {}
        return True

    def held_back(self, state: dict[str, t.Any], sources: Callable[[str], Iterable[str]]) -> dict[str, t.Any] | None:
        """``state`` with each undelivered stream's bookmark as it was before its first record, or removed.

        ``sources`` names the tap streams whose records reach a sink stream (more than its own name only when a
        stream map renames or copies streams): bookmarks are keyed by the tap's names. Returns None when the
        state has no ``bookmarks`` object, i.e. a shape whose bookmarks cannot be found: then no STATE may be
        written at all.
        """
        if not self._bookmarks_before:
            return state
        bookmarks = state.get("bookmarks")
        if not isinstance(bookmarks, dict):
            return None
        for stream, before in self._bookmarks_before.items():
            for source in sources(stream):
                if source in before:
                    bookmarks[source] = copy.deepcopy(before[source])
                else:
                    bookmarks.pop(source, None)
        return state
