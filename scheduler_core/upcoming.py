"""The runs a composition's schedules will make in the next days, and which of them won't.

``envctl schedule --json`` and ``/env schedule`` show this; it is computed from the
cron expressions (in the composition's timezone, DST-correct) and what is known of
the schedules now: paused, or the next one of an action skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scheduler_core.actions import Action
from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.cron import Occurrence, next_occurrences
from scheduler_core.holidays import scheduled_time
from scheduler_core.runtime.store import Overrides, Store

HORIZON = timedelta(days=7)
# Enough for a run every quarter hour through the horizon; busier schedules are cut short.
MAX_RUNS_PER_ACTION = 700


@dataclass(frozen=True, kw_only=True)
class UpcomingRun:
    action: Action
    at: datetime  # local time of the composition, with its offset
    runs: bool
    reason: str | None  # why not: "paused", "holiday", "skip", "extended"; None when it runs

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
    extended_stop: str | None = None,
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
            reason = _reason(
                action,
                occurrence,
                first=index == 0,
                paused=paused.get(action, False),
                skip_next=skip_next.get(action, False),
                holidays=holidays,
                rows=rows,
                extended_stop=extended_stop,
            )
            found.append(
                UpcomingRun(action=action, at=occurrence.local, runs=reason is None, reason=reason)
            )
    return sorted(found, key=lambda run: run.at)


def recorded_runs(
    store: Store,
    composition: Composition,
    *,
    now: datetime,
    paused: Mapping[Action, bool] | None = None,
) -> list[UpcomingRun]:
    """``upcoming_runs`` with what the table records: skip flags, skipped dates, extension."""
    overrides = store.overrides(composition.name)
    return upcoming_runs(
        composition,
        now=now,
        paused=paused or {},
        skip_next={Action.START: overrides.skip_next_start, Action.STOP: overrides.skip_next_stop},
        skipped_starts=store.skipped_starts(composition.name, after=scheduled_time(now)),
        extended_stop=overrides.extended_stop,
    )


def next_runs(
    composition: Composition,
    *,
    now: datetime,
    overrides: Overrides,
    skipped_starts: Mapping[str, str],
) -> dict[Action, UpcomingRun]:
    """The next scheduled run of each action and whether it does anything, however far.

    The same decision as ``upcoming_runs`` for the first run only: cheap enough for
    ``/env list``, which already holds the overrides and reads ``skipped_starts`` once.
    """
    found = {}
    skip_next = {Action.START: overrides.skip_next_start, Action.STOP: overrides.skip_next_stop}
    for action, expression in (
        (Action.START, composition.start_resources_at),
        (Action.STOP, composition.stop_resources_at),
    ):
        if expression == ON_DEMAND:
            continue
        occurrences = next_occurrences(expression, composition.timezone, after=now, count=1)
        if not occurrences:
            continue
        reason = _reason(
            action,
            occurrences[0],
            first=True,
            paused=False,
            skip_next=skip_next[action],
            holidays=set(composition.holidays),
            rows=skipped_starts,
            extended_stop=overrides.extended_stop,
        )
        found[action] = UpcomingRun(
            action=action, at=occurrences[0].local, runs=reason is None, reason=reason
        )
    return found


def _reason(
    action: Action,
    occurrence: Occurrence,
    *,
    first: bool,
    paused: bool,
    skip_next: bool,
    holidays: set[date],
    rows: Mapping[str, str],
    extended_stop: str | None,
) -> str | None:
    """Why this scheduled run will do nothing, or None when it runs."""
    due = scheduled_time(occurrence.utc)
    if paused:
        return "paused"
    if action is Action.START and occurrence.local.date() in holidays:
        return "holiday"
    if action is Action.START and due in rows:
        return "holiday" if rows[due] == "calendar" else "skip"
    if action is Action.STOP and due == extended_stop:
        return "extended"
    return "skip" if first and skip_next else None
