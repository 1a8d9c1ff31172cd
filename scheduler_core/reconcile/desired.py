"""What AWS should hold for a config: state machines, schedule groups, schedules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scheduler_core import heads_up, names
from scheduler_core.actions import Action
from scheduler_core.asl.builder import build_state_machine
from scheduler_core.asl.windows_machine import build_windows_machine
from scheduler_core.config.models import ON_DEMAND, Composition, ResourceItem
from scheduler_core.holidays import SCHEDULED_TIME_ATTRIBUTE
from scheduler_core.schedules import DESCRIPTION_PREFIX, ScheduleSpec


@dataclass(frozen=True, kw_only=True)
class WindowBracket:
    """A schedule that starts or stops one resource around an uncovered window."""

    resource: ResourceItem
    key: str
    action: Action
    expression: str
    timezone: str
    window: str


@dataclass(frozen=True, kw_only=True)
class StateMachineSpec:
    name: str
    composition: str
    definition: dict[str, Any]


@dataclass(kw_only=True)
class Desired:
    deployment: str = "default"
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # group name -> composition
    schedules: dict[str, ScheduleSpec] = field(default_factory=dict)  # "group/name" -> spec


@dataclass(frozen=True, kw_only=True)
class Targets:
    """Where things live in this account and region."""

    state_machine_arn_prefix: str  # arn:aws:states:<region>:<account>:stateMachine:
    scheduler_role_arn: str
    table_name: str
    event_bus_arn: str = ""  # the region's default bus: heads-ups go there


def desired_for(
    composition: Composition,
    *,
    targets: Targets,
    brackets: list[WindowBracket],
    credentials: str | None = None,
) -> Desired:
    """Everything one composition needs; brackets come from the window analysis.

    ``credentials``: the role that reaches its resources in another account, if any.
    """
    desired = Desired()
    name = composition.name
    for action in Action:
        machine = names.state_machine(name, action)
        desired.state_machines[machine] = StateMachineSpec(
            name=machine,
            composition=name,
            definition=build_state_machine(
                composition, action, table=targets.table_name, credentials=credentials
            ),
        )
    group = names.schedule_group(name)
    desired.groups[group] = name
    for action, expression in (
        (Action.START, composition.start_resources_at),
        (Action.STOP, composition.stop_resources_at),
    ):
        if expression == ON_DEMAND:
            continue
        spec = ScheduleSpec(
            group=group,
            name=names.scheduled(action),
            expression=f"cron({expression})",
            timezone=composition.timezone,
            target_arn=targets.state_machine_arn_prefix + names.state_machine(name, action),
            role_arn=targets.scheduler_role_arn,
            # A run says when it was due: holidays and skipped dates of starts, an
            # extended stop (asl.dates).
            input={"trigger": "schedule", "scheduled_time": SCHEDULED_TIME_ATTRIBUTE},
            description=f"{DESCRIPTION_PREFIX} scheduled {action.value} of {name}",
        )
        desired.schedules[spec.full_name] = spec
    warning = heads_up.scheduled_spec(
        composition, bus=targets.event_bus_arn, role_arn=targets.scheduler_role_arn
    )
    if warning is not None:
        desired.schedules[warning.full_name] = warning
    if brackets:
        machine = names.windows_machine(name)
        resources = list({b.resource.label: b.resource for b in brackets}.values())
        desired.state_machines[machine] = StateMachineSpec(
            name=machine,
            composition=name,
            definition=build_windows_machine(
                composition, resources, table=targets.table_name, credentials=credentials
            ),
        )
        for bracket in brackets:
            spec = ScheduleSpec(
                group=group,
                name=names.window_schedule(bracket.key, bracket.action),
                expression=bracket.expression,
                timezone=bracket.timezone,
                target_arn=targets.state_machine_arn_prefix + machine,
                role_arn=targets.scheduler_role_arn,
                input={
                    "trigger": "window",
                    "resource": bracket.resource.label,
                    "action": bracket.action.value,
                },
                description=(
                    f"{DESCRIPTION_PREFIX} {bracket.action.value} {bracket.resource.label} "
                    f"for window {bracket.window}"
                )[:512],
            )
            desired.schedules[spec.full_name] = spec
    return desired
