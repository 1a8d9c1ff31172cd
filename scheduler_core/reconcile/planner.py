"""Compare what the config wants with what AWS holds, and say what to change.

Pure: it reads nothing itself. ``reconcile.live`` reads AWS once, and the plan is a
function of that snapshot and the desired objects, so it can be tested as a table.
Ownership: state machines and schedule groups carry the tag ``envctl:managed=true``;
schedules (which cannot be tagged) live in such a group and have an ``envctl:``
description. Nothing without those marks is ever changed or deleted, and prune only
removes objects of compositions absent from the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler_core import names
from scheduler_core.asl.builder import definition_json
from scheduler_core.reconcile.desired import Desired, StateMachineSpec
from scheduler_core.reconcile.live import Live, LiveGroup, owned_by
from scheduler_core.reconcile.model import Call, Change, ChangeAction, HeldPrune, ObjectKind
from scheduler_core.schedules import COMPOSITION_TAG, ScheduleSpec, ownership_tags


def plan_changes(desired: Desired, live: Live, *, role_arn: str, prune: bool) -> list[Change]:
    """All changes needed, in apply order."""
    changes = [
        *_state_machine_changes(desired, live, role_arn=role_arn, prune=prune),
        *_group_and_schedule_changes(desired, live, prune=prune),
    ]
    return sorted(changes, key=lambda change: change.sort_key)


def pruned_machine_arns(changes: list[Change], desired: Desired) -> dict[str, list[str]]:
    """Composition -> ARNs of its state machines the plan deletes, for pruned compositions."""
    kept = set(desired.groups.values())
    machines: dict[str, list[str]] = {}
    for change in changes:
        if (
            change.action is ChangeAction.DELETE
            and change.kind is ObjectKind.STATE_MACHINE
            and change.composition not in kept
        ):
            machines.setdefault(change.composition, []).extend(
                call.arguments["stateMachineArn"] for call in change.calls
            )
    return machines


def hold_busy_prunes(
    changes: list[Change], *, desired: Desired, running: Mapping[str, str]
) -> tuple[list[Change], list[HeldPrune]]:
    """The changes without any deletion for a pruned composition whose machine still runs.

    A pruned composition is one absent from ``desired``; if one of the state machines
    the plan would delete for it has a RUNNING execution (``running``: machine ARN ->
    execution ARN), all of that composition's deletions (machines, schedules, group)
    are left out and it is reported instead. Deletions of compositions still in the
    config are never held.
    """
    held = []
    for composition, arns in pruned_machine_arns(changes, desired).items():
        busy = [running[arn] for arn in sorted(arns) if arn in running]
        if busy:
            held.append(HeldPrune(composition=composition, execution_arn=busy[0]))
    busy_compositions = {entry.composition for entry in held}
    remaining = [
        change
        for change in changes
        if not (change.action is ChangeAction.DELETE and change.composition in busy_compositions)
    ]
    return remaining, held


def _state_machine_changes(
    desired: Desired, live: Live, *, role_arn: str, prune: bool
) -> list[Change]:
    changes = []
    for spec in desired.state_machines.values():
        found = live.machines.get(spec.name)
        if found is None:
            changes.append(_create_machine(spec, role_arn, desired.deployment))
            continue
        fields: dict[str, tuple[str | None, str | None]] = {}
        if found.definition != spec.definition:
            fields["definition"] = ("(differs)", "(generated)")
        if found.role_arn != role_arn:
            fields["role"] = (found.role_arn, role_arn)
        if fields:
            update = Call(
                service="stepfunctions",
                operation="update_state_machine",
                arguments={
                    "stateMachineArn": found.arn,
                    "definition": definition_json(spec.definition),
                    "roleArn": role_arn,
                },
            )
            changes.append(
                Change(
                    action=ChangeAction.UPDATE,
                    kind=ObjectKind.STATE_MACHINE,
                    name=spec.name,
                    composition=spec.composition,
                    fields=fields,
                    calls=(update,),
                )
            )
    if prune:
        changes.extend(_prunable_machines(desired, live))
    return changes


def _create_machine(spec: StateMachineSpec, role_arn: str, deployment: str) -> Change:
    call = Call(
        service="stepfunctions",
        operation="create_state_machine",
        arguments={
            "name": spec.name,
            "definition": definition_json(spec.definition),
            "roleArn": role_arn,
            "type": "STANDARD",
            "tags": ownership_tags(spec.composition, deployment, key="key", value="value"),
        },
    )
    return Change(
        action=ChangeAction.CREATE,
        kind=ObjectKind.STATE_MACHINE,
        name=spec.name,
        composition=spec.composition,
        calls=(call,),
    )


def _prunable_machines(desired: Desired, live: Live) -> list[Change]:
    """Deletions of this deployment's machines whose composition left the config."""
    changes = []
    kept = set(desired.groups.values())
    for machine in live.machines.values():
        if machine.name in desired.state_machines:
            continue
        composition = machine.tags.get(COMPOSITION_TAG, "")
        if not owned_by(machine.tags, desired.deployment) or composition in kept:
            continue
        changes.append(
            _deletion(
                ObjectKind.STATE_MACHINE,
                machine.name,
                composition,
                Call(
                    service="stepfunctions",
                    operation="delete_state_machine",
                    arguments={"stateMachineArn": machine.arn},
                ),
            )
        )
    return changes


def _group_and_schedule_changes(desired: Desired, live: Live, *, prune: bool) -> list[Change]:
    changes: list[Change] = []
    for group, composition in desired.groups.items():
        found = live.groups.get(group)
        if found is None:
            changes.append(_create_group(group, composition, desired.deployment))
        schedules = found.schedules if found is not None else {}
        wanted = {s.name: s for s in desired.schedules.values() if s.group == group}
        changes.extend(_schedule_changes(composition, group, wanted, schedules))
    if prune:
        for live_group in live.groups.values():
            if live_group.name in desired.groups or not owned_by(
                live_group.tags, desired.deployment
            ):
                continue
            changes.extend(_prune_group(live_group))
    return changes


def _create_group(group: str, composition: str, deployment: str) -> Change:
    call = Call(
        service="scheduler",
        operation="create_schedule_group",
        arguments={
            "Name": group,
            "Tags": ownership_tags(composition, deployment),
        },
    )
    return Change(
        action=ChangeAction.CREATE,
        kind=ObjectKind.SCHEDULE_GROUP,
        name=group,
        composition=composition,
        calls=(call,),
    )


def _schedule_changes(
    composition: str,
    group: str,
    wanted: dict[str, ScheduleSpec],
    live: Mapping[str, Mapping[str, Any]],
) -> list[Change]:
    changes = []
    for name, spec in wanted.items():
        if name not in live:
            call = Call(
                service="scheduler",
                operation="create_schedule",
                arguments=spec.request(state=spec.state or "ENABLED"),
            )
            changes.append(
                Change(
                    action=ChangeAction.CREATE,
                    kind=ObjectKind.SCHEDULE,
                    name=spec.full_name,
                    composition=composition,
                    fields={"expression": (None, f"{spec.expression} {spec.timezone}")},
                    calls=(call,),
                )
            )
            continue
        differences = spec.differences(dict(live[name]))
        if differences:
            state = spec.state or live[name].get("State", "ENABLED")
            call = Call(
                service="scheduler",
                operation="update_schedule",
                arguments=spec.request(state=state),
            )
            changes.append(
                Change(
                    action=ChangeAction.UPDATE,
                    kind=ObjectKind.SCHEDULE,
                    name=spec.full_name,
                    composition=composition,
                    fields=differences,
                    calls=(call,),
                )
            )
    for name in live:
        # The pending auto-stop and its heads-up belong to the runtime (start --for).
        if name in wanted or name in (names.AUTO_STOP, names.AUTO_STOP_HEADS_UP):
            continue
        changes.append(_delete_schedule(group, name, composition))
    return changes


def _delete_schedule(group: str, name: str, composition: str) -> Change:
    return _deletion(
        ObjectKind.SCHEDULE,
        f"{group}/{name}",
        composition,
        Call(
            service="scheduler",
            operation="delete_schedule",
            arguments={"GroupName": group, "Name": name},
        ),
    )


def _deletion(kind: ObjectKind, name: str, composition: str, call: Call) -> Change:
    return Change(
        action=ChangeAction.DELETE, kind=kind, name=name, composition=composition, calls=(call,)
    )


def _prune_group(group: LiveGroup) -> list[Change]:
    """Delete envctl's schedules, and the group itself only if nothing foreign is in it."""
    composition = group.tags.get(COMPOSITION_TAG, "")
    changes = [_delete_schedule(group.name, name, composition) for name in group.schedules]
    if not group.foreign:
        changes.append(
            _deletion(
                ObjectKind.SCHEDULE_GROUP,
                group.name,
                composition,
                Call(
                    service="scheduler",
                    operation="delete_schedule_group",
                    arguments={"Name": group.name},
                ),
            )
        )
    return changes
