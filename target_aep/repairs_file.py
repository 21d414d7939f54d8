"""The repairs file (`repairs_path`): one JSON line per value the target left out of or altered in a record.

Written like the dead-letter file (`DeadLetterFile`: opened on the first line, checked writable at start-up,
secrets scrubbed), but buffered: a run can repair many values, so lines are flushed before each STATE line the
target writes and at the end of the run, rather than one write call each. A line names the stream, the Stripe id,
the field (Stripe's name and the XDM path), the action (`dropped`, `truncated`, `converted`), the reason, and the
`_id` the record landed with; never the value itself.
"""

from __future__ import annotations

import typing as t

from target_aep.dead_letter import DeadLetterFile

if t.TYPE_CHECKING:
    from target_aep.xdm.repairs import Repair


class RepairsFile(DeadLetterFile):
    setting = "repairs_path"
    consequence = "values the target leaves out or alters could not be traced"

    def trace(self, stream: str, record_id: object, xdm_id: object, repairs: t.Iterable[Repair]) -> None:
        """One line per repair of one landed record."""
        for repair in repairs:
            self._write(
                {
                    "stream": stream,
                    "id": record_id,
                    "field": {"stripe": repair.field, "xdm": repair.xdm_path},
                    "action": repair.action,
                    "reason": repair.reason,
                    "_id": xdm_id,
                },
                flush=False,
            )
