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
from scheduler_core.runtime import in_progress
from scheduler_core.windows.uncovered import uncovered_windows

HORIZON = timedelta(hours=12)


def confirmation_warnings(
    services: Services, composition: Composition, action: str, *, now: datetime
) -> list[str]:
    warnings = []
    busy = in_progress(
        services.aws.at(composition.region),
        services.runtime.settings.table_name,
        composition.name,
    )
    if busy is not None:
        doing = "starting" if busy.action is Action.START else "stopping"
        execution = busy.execution_arn.rsplit(":", 1)[-1]
        warnings.append(f"*{composition.name}* is already {doing} (execution `{execution}`).")
    opposite = "stop" if action == "start" else "start"
    undo = next_run(composition, opposite, now=now)
    if undo is not None and undo - now <= HORIZON:
        warnings.append(
            f"Scheduled {opposite} at {local_time(undo, composition.zone)} "
            f"in {format_duration(undo - now)}."
        )
    if action == "stop":
        warnings.extend(_uncovered_windows(services, composition, now=now))
    return warnings


def _uncovered_windows(services: Services, composition: Composition, *, now: datetime) -> list[str]:
    """The wording of the windows a stop leaves uncovered (decided in scheduler_core)."""
    found = uncovered_windows(
        services.aws,
        composition,
        now=now,
        horizon=HORIZON,
        next_start=lambda: next_run(composition, "start", now=now),
    )
    return [
        f"{window.resource_type} {window.resource_id} has a {window.kind} window at "
        f"{local_time(window.opens_at, composition.zone)} "
        f"(in {format_duration(window.opens_at - now)}) that this stop leaves uncovered."
        for window in found
    ]
