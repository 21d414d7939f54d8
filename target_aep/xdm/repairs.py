"""What the mapping left out of, or altered in, the record being mapped: collected per record, never silent.

A value that cannot fit the dataset's schema (an invalid e-mail, a text over the schema's length, metadata over the
size guardrail, a field the schema has no place for) is dropped or altered rather than sent to be refused. Each
time, the mapping notes a `Repair` in the mapper's `RepairLog`; the sink takes the record's repairs after mapping
and writes them, one JSON line each, to the `repairs_path` file (`target_aep.repairs_file`) and the run's counts.
Only the repair branch pays: a record that fits as is adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

DROPPED = "dropped"
TRUNCATED = "truncated"
CONVERTED = "converted"


@dataclass(frozen=True, slots=True)
class Repair:
    """One value of one record: the Stripe `field` it came from, its `xdm_path`, what was done and why."""

    field: str
    xdm_path: str
    action: str  # DROPPED | TRUNCATED | CONVERTED
    reason: str  # a stable phrase (counted by reason in the run summary), never the value itself


class RepairLog:
    """The repairs of the record being mapped (`pending`), and every Stripe field left out so far (`unplaced`)."""

    __slots__ = ("pending", "unplaced")

    def __init__(self) -> None:
        self.pending: list[Repair] = []
        self.unplaced: set[str] = set()

    def dropped(self, field: str, xdm_path: str, reason: str) -> None:
        self.pending.append(Repair(field, xdm_path, DROPPED, reason))
        self.unplaced.add(field)

    def altered(self, field: str, xdm_path: str, action: str, reason: str) -> None:
        self.pending.append(Repair(field, xdm_path, action, reason))

    def take(self) -> list[Repair]:
        """The record's repairs, leaving the log empty for the next record."""
        pending, self.pending = self.pending, []
        return pending
