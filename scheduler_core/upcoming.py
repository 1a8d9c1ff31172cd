"""The runs a composition's schedules will make in the next days, and which of them won't.

``envctl schedule --json`` and ``/env schedule`` show this; it is computed from the
cron expressions (in the composition's timezone, DST-correct) and what is known of
the schedules now: paused, or the next one of an action skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scheduler_core.actions import Action
from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron import next_occurrences
from scheduler_core.holidays import scheduled_time

HORIZON = timedelta(days=7)
# Enough for a run every quarter hour through the horizon; busier schedules are cut short.
MAX_RUNS_PER_ACTION = 700


@dataclass(frozen=True, kw_only=True)
class UpcomingRun:
    action: Action
    at: datetime  # local time of the composition, with its offset
    runs: bool
    reason: str | None  # why not: "paused", "holiday" or "skip"; None when it runs

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "at": self.at.isoformat(),
            "runs": self.runs,
            "reason": self.reason,
        }


def upcoming_runs(
    composition: Composition,
    *,
    now: datetime,
    paused: Mapping[Action, bool],
    skip_next: Mapping[Action, bool],
    skipped_starts: Mapping[str, str] | None = None,
    horizon: timedelta = HORIZON,
) -> list[UpcomingRun]:
    """Every scheduled run from ``now`` to ``now + horizon``, in time order.

    ``skipped_starts``: due time (``2026-12-24T07:00:00Z``) → source ("calendar" or
    "skip") of the starts the table says to skip (``envctl skip DATE``, calendars).
    """
    rows = skipped_starts or {}
    found: list[UpcomingRun] = []
    holidays = set(composition.holidays)
    for action, expression in (
        (Action.START, composition.start_resources_at),
        (Action.STOP, composition.stop_resources_at),
    ):
        if expression == ON_DEMAND:
            continue
        occurrences = next_occurrences(
            expression, composition.timezone, after=now, count=MAX_RUNS_PER_ACTION
        )
        for index, occurrence in enumerate(o for o in occurrences if o.utc <= now + horizon):
            reason = None
            if paused.get(action, False):
                reason = "paused"
            elif action is Action.START and occurrence.local.date() in holidays:
                reason = "holiday"
            elif action is Action.START and scheduled_time(occurrence.utc) in rows:
                reason = "holiday" if rows[scheduled_time(occurrence.utc)] == "calendar" else "skip"
            elif index == 0 and skip_next.get(action, False):
                reason = "skip"
            found.append(
                UpcomingRun(action=action, at=occurrence.local, runs=reason is None, reason=reason)
            )
    return sorted(found, key=lambda run: run.at)
