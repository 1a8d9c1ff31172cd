"""What a plan is made of: changes to named AWS objects, and the calls that make them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ObjectKind(StrEnum):
    TABLE = "table"
    EVENT_RULE = "event rule"
    STATE_MACHINE = "state machine"
    SCHEDULE_GROUP = "schedule group"
    SCHEDULE = "schedule"
    HOLIDAYS = "holidays"


SYMBOLS = {ChangeAction.CREATE: "+", ChangeAction.UPDATE: "~", ChangeAction.DELETE: "-"}
# Apply order: what others depend on first; deletions in reverse.
ORDER = {
    ObjectKind.TABLE: -1,
    ObjectKind.EVENT_RULE: -1,
    ObjectKind.STATE_MACHINE: 0,
    ObjectKind.SCHEDULE_GROUP: 1,
    ObjectKind.SCHEDULE: 2,
    ObjectKind.HOLIDAYS: 3,
}


@dataclass(frozen=True, kw_only=True)
class Call:
    """One AWS API call: ``aws.client(service).<operation>(**arguments)``."""

    service: str
    operation: str
    arguments: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Change:
    action: ChangeAction
    kind: ObjectKind
    name: str
    composition: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    calls: tuple[Call, ...] = ()
    region: str = ""  # where it is made, when not in the deployment's own region

    def describe(self) -> str:
        line = f"{SYMBOLS[self.action]} {self.kind} {self.name}"
        if self.region:
            line += f" in {self.region}"
        if self.fields:
            shown = "; ".join(
                f"{name}: {_short(old)} → {_short(new)}" for name, (old, new) in self.fields.items()
            )
            line += f" ({shown})"
        return line

    def as_json(self) -> dict[str, Any]:
        return {
            "action": str(self.action),
            "type": str(self.kind).replace(" ", "_"),
            "name": self.name,
            "composition": self.composition,
            **({"region": self.region} if self.region else {}),
            "changes": {name: {"from": old, "to": new} for name, (old, new) in self.fields.items()},
        }

    @property
    def sort_key(self) -> tuple[int, int, str]:
        rank = ORDER[self.kind]
        return (1, -rank, self.name) if self.action is ChangeAction.DELETE else (0, rank, self.name)


@dataclass(frozen=True, kw_only=True)
class HeldPrune:
    """A composition removed from the config but not pruned: its state machine still runs.

    Deleting a state machine under a running execution would leave resources half
    started or half stopped with nothing to finish the job, so none of the
    composition's objects are deleted until a later ``apply --prune`` finds it idle.
    """

    composition: str
    execution_arn: str

    def describe(self) -> str:
        return (
            f"not pruning {self.composition}: execution {self.execution_arn} is still "
            "running; run apply --prune again when it has finished"
        )

    def as_json(self) -> dict[str, Any]:
        return {"composition": self.composition, "execution_arn": self.execution_arn}


@dataclass(frozen=True, kw_only=True)
class Plan:
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()
    held: tuple[HeldPrune, ...] = ()  # prunes left out of ``changes``, one per composition

    @property
    def empty(self) -> bool:
        """No change to make (there may still be held prunes to report)."""
        return not self.changes

    def summary(self, *, done: bool = False) -> str:
        """ "2 to create, 1 to update, 0 to delete" (or "2 created, ..." once applied)."""
        counts = {action: sum(c.action is action for c in self.changes) for action in ChangeAction}
        return ", ".join(
            f"{counts[action]} {action.value}d" if done else f"{counts[action]} to {action.value}"
            for action in ChangeAction
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "changes": [change.as_json() for change in self.changes],
            "notes": list(self.notes),
            "not_pruned": [held.as_json() for held in self.held],
        }


def _short(value: Any) -> str:
    text = str(value) if value is not None else "(none)"
    return text if len(text) <= 60 else text[:57] + "..."
