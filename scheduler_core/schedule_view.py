"""What ``envctl schedule`` and ``/env schedule`` show, read once for both.

``read_schedule`` gathers the facts (the schedules' pause, the recorded runs of the
next 7 days, the pending auto-stop, the recorded state); ``ScheduleFacts.as_json`` is
the ``schedule --json`` document and ``ScheduleFacts.week`` the week at a glance
drawn from the same facts. ``read_windows`` reads the windows for the grid and never
raises: a failure becomes one sentence, and the grid is drawn without windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config.models import ON_DEMAND, Composition
from scheduler_core.exceptions import EnvctlError, fault_of
from scheduler_core.places import reaching
from scheduler_core.runtime.operations import Runtime
from scheduler_core.upcoming import UpcomingRun, recorded_runs
from scheduler_core.week import Week, week_at_a_glance
from scheduler_core.windows import analyse_windows, collect_windows
from scheduler_core.windows.analysis import WindowAnalysis
from scheduler_core.windows.resource_window import ResourceWindow

NOT_DEPLOYED = "not deployed yet (run `envctl apply`)"
_RUNNING = {"running": True, "starting": True, "stopped": False, "stopping": False}

WindowPairs = list[tuple[ResourceWindow, WindowAnalysis]]


@dataclass(frozen=True, kw_only=True)
class ScheduleFacts:
    """A composition's scheduled runs as they stand at ``now``."""

    composition: Composition
    now: datetime
    states: Mapping[Action, str]  # "active", "paused" or NOT_DEPLOYED, per scheduled action
    runs: list[UpcomingRun]
    auto_stop_at: datetime | None
    running_now: bool | None = None
    paused: bool = field(init=False)

    def __post_init__(self) -> None:
        states = self.states.values()
        object.__setattr__(self, "paused", bool(states) and all(s == "paused" for s in states))

    def as_json(self) -> dict[str, Any]:
        """The ``schedule --json`` document (README "Commands")."""
        pending = self.auto_stop_at
        return {
            "composition": self.composition.name,
            "timezone": self.composition.timezone,
            "paused": self.paused,
            "auto_stop_at": pending.astimezone(self.composition.zone).isoformat()
            if pending
            else None,
            "next": [run.as_json() for run in self.runs],
        }

    def week(
        self,
        windows: Sequence[tuple[ResourceWindow, WindowAnalysis]] = (),
        *,
        windows_unread: str | None = None,
    ) -> Week:
        """The week at a glance from these facts and the composition's windows."""
        return week_at_a_glance(
            self.composition,
            now=self.now,
            runs=self.runs,
            auto_stop_at=self.auto_stop_at,
            running_now=self.running_now,
            paused=self.paused,
            windows=windows,
            windows_unread=windows_unread,
        )


def read_schedule(runtime: Runtime, composition: Composition, *, now: datetime) -> ScheduleFacts:
    """The facts of ``schedule``: two GetSchedule, the table's rows, the auto-stop."""
    states = schedule_states(runtime.aws, composition)
    paused = {action: state == "paused" for action, state in states.items()}
    record = runtime.store.state(composition.name)
    return ScheduleFacts(
        composition=composition,
        now=now,
        states=states,
        runs=recorded_runs(runtime.store, composition, now=now, paused=paused),
        auto_stop_at=runtime.pending_auto_stop(composition),
        running_now=_RUNNING.get(record.state) if record else None,
    )


def schedule_states(aws: Aws, composition: Composition) -> dict[Action, str]:
    """``active``, ``paused`` or not deployed, for each action that has a schedule."""
    scheduler = aws.at(composition.region).client("scheduler")
    states = {}
    for action, expression in (
        (Action.START, composition.start_resources_at),
        (Action.STOP, composition.stop_resources_at),
    ):
        if expression == ON_DEMAND:
            continue
        try:
            live = scheduler.get_schedule(
                GroupName=names.schedule_group(composition.name), Name=names.scheduled(action)
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            states[action] = NOT_DEPLOYED
            continue
        states[action] = "paused" if live.get("State") == "DISABLED" else "active"
    return states


def read_windows(
    aws: Aws, composition: Composition, *, now: datetime
) -> tuple[WindowPairs, str | None]:
    """The composition's windows and their analyses, or none and why they could not be read."""
    if not any(item.kind.has_windows for item in composition.items()):
        return [], None
    try:
        windows = collect_windows(reaching(composition, aws), composition)
        analyses = analyse_windows(composition, windows, now=now)
    except (ClientError, BotoCoreError, EnvctlError) as exc:
        return [], unread_reason(exc)
    return list(zip(windows, analyses, strict=True)), None


def unread_reason(exc: BaseException) -> str:
    """One sentence for a failed read, in the CLI's words for AWS errors."""
    fault = fault_of(exc)
    if fault is None:
        return str(exc)
    if fault.operation:
        return f"AWS refused {fault.operation}: {fault.code}: {fault.detail}"
    if isinstance(exc, BotoCoreError):
        return f"cannot reach AWS: {fault.detail}"
    return fault.detail
