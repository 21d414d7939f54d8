"""The plan: one step per resource target-aep needs, saying whether it exists, will be created or changed, or
will not be touched and why. Printing it changes nothing; `apply.py` carries it out.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass, field


class Action(enum.StrEnum):
    EXISTS = "exists"
    CREATE = "create"
    CHANGE = "change"
    LEAVE = "leave"  # will not touch: a destructive difference, or an option of this run (--no-profile)


@dataclass(frozen=True)
class Pending:
    """An id that exists only once an earlier step of the same run has made it (``key`` names that step)."""

    key: str


def resolve(value: t.Any, ids: t.Mapping[str, str]) -> t.Any:
    """``value`` with every `Pending` replaced by the id its step produced."""
    if isinstance(value, Pending):
        return ids[value.key]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


@dataclass
class Step:
    """One resource: what it is, what will happen to it, and why."""

    key: str  # "class", "field_group", "schema:profile", "profile:profile", "dataset:record", "connection", ...
    kind: str  # what a person calls it: "schema", "dataset", "dataflow", ...
    name: str  # its title, code or name
    action: Action
    summary: str  # one line: what it is, or will be
    changes: list[str] = field(default_factory=list)  # CHANGE: what is added
    left_alone: list[str] = field(default_factory=list)  # differences not applied, each with its reason
    resource_id: str | None = None  # the existing resource's id
    ops: list[dict[str, t.Any]] = field(default_factory=list)  # CHANGE: JSON Patch `add` operations
    needs: tuple[str, ...] = ()  # keys of the steps whose resources this one refers to
    blocking: bool = False  # LEAVE and target-aep cannot work without it: the sandbox is not ready

    @property
    def to_do(self) -> bool:
        return self.action in (Action.CREATE, Action.CHANGE)


@dataclass
class Plan:
    """Every step, in the order they are carried out."""

    sandbox: str
    org_id: str
    tenant: str
    steps: list[Step]

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    @property
    def to_do(self) -> list[Step]:
        return [s for s in self.steps if s.to_do]

    @property
    def blocked(self) -> list[Step]:
        return [s for s in self.steps if s.blocking]

    @property
    def differences_left(self) -> list[str]:
        return [f"{s.kind} '{s.name}': {note}" for s in self.steps for note in s.left_alone]

    def counts(self) -> dict[Action, int]:
        return {action: sum(1 for s in self.steps if s.action == action) for action in Action}

    def lines(self) -> list[str]:
        """The plan as a person reads it: one line per resource, notes indented below."""
        name_width = min(max((len(s.name) for s in self.steps), default=10), 34)
        out = []
        for s in self.steps:
            out.append(f"  {s.action.value:<7} {s.kind:<21} {s.name:<{name_width}}  {s.summary}".rstrip())
            out += [f"{'':<32}+ {change}" for change in s.changes]
            out += [f"{'':<32}! will not touch: {note}" for note in s.left_alone]
        return out

    def summary_line(self) -> str:
        counts = self.counts()
        text = (
            f"{counts[Action.CREATE]} to create, {counts[Action.CHANGE]} to change, {counts[Action.EXISTS]} "
            f"already there, {counts[Action.LEAVE]} left alone"
        )
        if self.differences_left:
            text += f", {len(self.differences_left)} difference(s) not applied"
        return text
