"""Warnings shown on a start/stop confirmation (README "Slack").

- an execution of this composition already in progress;
- a schedule that will undo the action soon ("scheduled stop at 19:00 CET in 40m");
- for a stop: a maintenance or backup window in the next 12 hours that nothing will
  keep the resource up for (no bracket schedule, no scheduled start before it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.slack.blocks import local_time
from bot.slack.services import Services, next_run
from scheduler_core.actions import Action
from scheduler_core.config import Composition
from scheduler_core.durations import format_duration
from scheduler_core.reconcile.windows import has_windows
from scheduler_core.runtime import running_execution
from scheduler_core.windows import analyse_windows, collect_windows

HORIZON = timedelta(hours=12)


def confirmation_warnings(
    services: Services, composition: Composition, action: str, *, now: datetime
) -> list[str]:
    warnings = []
    for other in Action:
        busy = running_execution(services.aws, composition.name, other)
        if busy:
            doing = "starting" if other is Action.START else "stopping"
            warnings.append(
                f"*{composition.name}* is already {doing} (execution `{busy.rsplit(':', 1)[-1]}`)."
            )
    opposite = "stop" if action == "start" else "start"
    undo = next_run(composition, opposite, now=now)
    if undo is not None and undo - now <= HORIZON:
        warnings.append(
            f"Scheduled {opposite} at {local_time(undo, composition.zone)} "
            f"in {format_duration(undo - now)}."
        )
    if action == "stop" and has_windows(composition):
        warnings.extend(_uncovered_windows(services, composition, now=now))
    return warnings


def _uncovered_windows(services: Services, composition: Composition, *, now: datetime) -> list[str]:
    windows = collect_windows(services.aws, composition)
    bracketed = {
        (a.resource_type, a.resource_id, a.window)
        for a in analyse_windows(composition, windows, now=now, weeks=1)
        if a.brackets
    }
    margin = timedelta(minutes=composition.window_margin_minutes)
    next_start = next_run(composition, "start", now=now)
    found = []
    for window in windows:
        if (
            window.spec is None
            or (window.resource_type, window.resource_id, window.window) in bracketed
        ):
            continue
        opening = next(iter(window.spec.occurrences(begin=now, end=now + HORIZON)), None)
        if opening is None:
            continue
        if next_start is not None and next_start <= opening[0] - margin:
            continue
        found.append(
            f"{window.resource_type} {window.resource_id} has a {window.kind} window at "
            f"{local_time(opening[0], composition.zone)} (in {format_duration(opening[0] - now)}) "
            "that this stop leaves uncovered."
        )
    return found
