"""``envctl plan`` / ``envctl apply``: make AWS match the compositions file.

Running apply twice changes nothing: the second plan is empty and apply then
makes no write call at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from scheduler_core import heads_up, names
from scheduler_core.actions import Action
from scheduler_core.aws import Aws
from scheduler_core.config import Composition, Config
from scheduler_core.places import place_of
from scheduler_core.reconcile.desired import Desired, Targets, WindowBracket, desired_for
from scheduler_core.reconcile.forwarding import forwarding_changes
from scheduler_core.reconcile.live import read_live, running_executions
from scheduler_core.reconcile.model import Call, Change, ChangeAction, HeldPrune, ObjectKind, Plan
from scheduler_core.reconcile.planner import hold_busy_prunes, plan_changes, pruned_machine_arns
from scheduler_core.reconcile.skips import holiday_change
from scheduler_core.reconcile.tables import table_change
from scheduler_core.runtime.deploy import role_arn, scheduler_role_arn, state_machine_arn_prefix
from scheduler_core.settings import Settings

BracketSource = Callable[[Composition], list[WindowBracket]]


def role_arns(aws: Aws, settings: Settings) -> tuple[str, str]:
    """(state machine role, scheduler role): from settings, else the default names."""
    return role_arn(aws, settings), scheduler_role_arn(aws, settings)


def targets(aws: Aws, settings: Settings) -> Targets:
    return Targets(
        state_machine_arn_prefix=state_machine_arn_prefix(aws),
        scheduler_role_arn=role_arns(aws, settings)[1],
        table_name=settings.table_name,
        event_bus_arn=heads_up.bus_arn(
            partition=aws.partition, region=aws.region, account=aws.account_id
        ),
    )


def make_plan(
    aws: Aws,
    settings: Settings,
    config: Config,
    *,
    prune: bool = False,
    brackets_for: BracketSource = lambda _: [],
    now: datetime | None = None,
) -> Plan:
    """Read AWS and list the changes that would make it match ``config``.

    Each composition's machines and schedules live in its region, so each region is
    planned on its own: the deployment's, every composition's, and the managed
    regions of the settings (where a removed composition may have left objects).

    With ``prune``, compositions whose state machines still run an execution are
    not pruned: their deletions are left out of the plan and listed in ``held``.
    """
    by_region: dict[str, list[Composition]] = {aws.region: []}
    for region in settings.regions:
        by_region.setdefault(region, [])
    for composition in config.compositions.values():
        by_region.setdefault(composition.region or aws.region, []).append(composition)
    changes: list[Change] = []
    held: list[HeldPrune] = []
    for region, compositions in by_region.items():
        if not compositions and not prune:
            continue
        there = aws.at(region)
        part = _plan_region(there, settings, compositions, prune=prune, brackets_for=brackets_for)
        elsewhere = "" if region == aws.region else region
        extras = [
            *(
                [
                    table_change(there, settings.table_name),
                    *forwarding_changes(there, aws, settings),
                ]
                if elsewhere and compositions
                else []
            ),
            *(
                holiday_change(there, settings.table_name, c, now=now or datetime.now(UTC))
                for c in compositions
            ),
        ]
        changes.extend(replace(extra, region=elsewhere) for extra in extras if extra is not None)
        changes.extend(replace(change, region=elsewhere) for change in part.changes)
        held.extend(part.held)
    return Plan(changes=tuple(changes), held=tuple(held))


def _plan_region(
    aws: Aws,
    settings: Settings,
    compositions: list[Composition],
    *,
    prune: bool,
    brackets_for: BracketSource,
) -> Plan:
    where = targets(aws, settings)
    desired = Desired(deployment=settings.deployment)
    for composition in compositions:
        part = desired_for(
            composition,
            targets=where,
            brackets=brackets_for(composition),
            credentials=place_of(composition, aws).role_arn,
        )
        desired.state_machines.update(part.state_machines)
        desired.groups.update(part.groups)
        desired.schedules.update(part.schedules)
    live = read_live(aws, desired, arn_prefix=where.state_machine_arn_prefix, prune=prune)
    changes = plan_changes(desired, live, role_arn=role_arns(aws, settings)[0], prune=prune)
    changes = [_clearing_extension(change, settings.table_name) for change in changes]
    held: list[HeldPrune] = []
    if prune:
        doomed = [arn for arns in pruned_machine_arns(changes, desired).values() for arn in arns]
        running = running_executions(aws, doomed)
        changes, held = hold_busy_prunes(changes, desired=desired, running=running)
    return Plan(changes=tuple(changes), held=tuple(held))


def _clearing_extension(change: Change, table: str) -> Change:
    """A new stop schedule also clears the mark of a stop ``extend`` replaced.

    The mark names the due time of one scheduled stop; once the stop runs at other
    times it could only ever match by accident. The auto-stop ``extend`` made stays.
    """
    if (
        change.kind is not ObjectKind.SCHEDULE
        or change.action is not ChangeAction.UPDATE
        or change.name
        != f"{names.schedule_group(change.composition)}/{names.scheduled(Action.STOP)}"
        or not {"expression", "timezone"} & set(change.fields)
    ):
        return change
    clear = Call(
        service="dynamodb",
        operation="update_item",
        arguments={
            "TableName": table,
            "Key": {"pk": {"S": f"composition#{change.composition}"}, "sk": {"S": "override"}},
            "UpdateExpression": "REMOVE extended_stop",
        },
    )
    return replace(change, calls=(*change.calls, clear))


def plan_everything(
    aws: Aws, settings: Settings, config: Config, *, prune: bool = False, now: datetime
) -> Plan:
    """The full plan: window brackets from the analysis, notes on windows and conflicts."""
    from scheduler_core.reconcile.windows import (
        brackets_for,
        conflicts_for,
        window_analyses,
        window_notes,
    )

    analyses = window_analyses(aws, config, now=now)
    plan = make_plan(
        aws,
        settings,
        config,
        prune=prune,
        brackets_for=lambda composition: brackets_for(composition, analyses[composition.name]),
        now=now,
    )
    conflicts = conflicts_for(aws, list(config.compositions.values()))
    notes = [
        *window_notes(analyses),
        *(
            f"{c.composition}: {c.resource_type} {c.resource_id}: {c.detail}. {c.hint}"
            for c in conflicts
        ),
    ]
    return replace(plan, notes=tuple(notes))


def apply_plan(
    aws: Aws, plan: Plan, *, on_change: Callable[[Change], None] = lambda _: None
) -> None:
    """Make the calls of every change, in order; reports each change when done."""
    for change in plan.changes:
        there = aws.at(change.region or None)
        for call in change.calls:
            client = there.client(call.service)
            if call.operation.startswith("wait:"):
                client.get_waiter(call.operation[len("wait:") :]).wait(**call.arguments)
            else:
                getattr(client, call.operation)(**call.arguments)
        on_change(change)


__all__ = [
    "Change",
    "ChangeAction",
    "HeldPrune",
    "ObjectKind",
    "Plan",
    "WindowBracket",
    "apply_plan",
    "make_plan",
    "plan_everything",
    "role_arns",
]
