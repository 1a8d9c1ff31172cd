"""Compare what the config wants with what AWS holds, and say what to change.

Reads only. Ownership: state machines and schedule groups carry the tag
``envctl:managed=true``; schedules (which cannot be tagged) live in such a group
and have an ``envctl:`` description. Nothing without those marks is ever changed
or deleted, and prune only removes objects of compositions absent from the config.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.asl.builder import definition_json
from scheduler_core.aws import Aws
from scheduler_core.reconcile.desired import Desired, StateMachineSpec
from scheduler_core.reconcile.model import Call, Change, ChangeAction, HeldPrune, ObjectKind
from scheduler_core.schedules import (
    AUTO_STOP,
    COMPOSITION_TAG,
    DEFAULT_DEPLOYMENT,
    DEPLOYMENT_TAG,
    GROUP_PREFIX,
    MANAGED_TAG,
    ScheduleSpec,
    is_owned,
    ownership_tags,
)


def plan_changes(
    aws: Aws, desired: Desired, *, role_arn: str, prune: bool, arn_prefix: str
) -> list[Change]:
    """All changes needed, in apply order."""
    changes = [
        *_state_machine_changes(
            aws, desired, role_arn=role_arn, prune=prune, arn_prefix=arn_prefix
        ),
        *_group_and_schedule_changes(aws, desired, prune=prune),
    ]
    return sorted(changes, key=lambda change: change.sort_key)


def hold_busy_prunes(
    aws: Aws, changes: list[Change], *, desired: Desired
) -> tuple[list[Change], list[HeldPrune]]:
    """The changes without any deletion for a pruned composition whose machine still runs.

    A pruned composition is one absent from ``desired``; if one of the state machines
    the plan would delete for it has a RUNNING execution, all of that composition's
    deletions (machines, schedules, group) are left out and it is reported instead.
    Deletions of compositions still in the config are never held.
    """
    kept = set(desired.groups.values())
    machines: dict[str, list[str]] = {}  # pruned composition -> ARNs the plan would delete
    for change in changes:
        if (
            change.action is ChangeAction.DELETE
            and change.kind is ObjectKind.STATE_MACHINE
            and change.composition not in kept
        ):
            machines.setdefault(change.composition, []).extend(
                call.arguments["stateMachineArn"] for call in change.calls
            )
    held = []
    for composition, arns in machines.items():
        running = _running_execution(aws, arns)
        if running is not None:
            held.append(HeldPrune(composition=composition, execution_arn=running))
    busy = {entry.composition for entry in held}
    remaining = [
        change
        for change in changes
        if not (change.action is ChangeAction.DELETE and change.composition in busy)
    ]
    return remaining, held


def _running_execution(aws: Aws, state_machine_arns: list[str]) -> str | None:
    """The ARN of a RUNNING execution of one of the machines, or None."""
    sfn = aws.client("stepfunctions")
    for arn in sorted(state_machine_arns):
        found = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
        if found["executions"]:
            return str(found["executions"][0]["executionArn"])
    return None


def _state_machine_changes(
    aws: Aws, desired: Desired, *, role_arn: str, prune: bool, arn_prefix: str
) -> list[Change]:
    sfn = aws.client("stepfunctions")
    changes = []
    for spec in desired.state_machines.values():
        arn = arn_prefix + spec.name
        try:
            live = sfn.describe_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "StateMachineDoesNotExist":
                raise
            changes.append(_create_machine(spec, role_arn, desired.deployment))
            continue
        fields = {}
        if json.loads(live["definition"]) != spec.definition:
            fields["definition"] = ("(differs)", "(generated)")
        if live.get("roleArn") != role_arn:
            fields["role"] = (live.get("roleArn"), role_arn)
        if fields:
            update = Call(
                service="stepfunctions",
                operation="update_state_machine",
                arguments={
                    "stateMachineArn": arn,
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
        changes.extend(_prunable_machines(aws, desired))
    return changes


def _ours(tags: dict[str, str], desired: Desired) -> bool:
    """Managed by envctl, and by this deployment (untagged objects are "default"'s)."""
    deployment = tags.get(DEPLOYMENT_TAG, DEFAULT_DEPLOYMENT)
    return tags.get(MANAGED_TAG) == "true" and deployment == desired.deployment


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


def _prunable_machines(aws: Aws, desired: Desired) -> list[Change]:
    sfn = aws.client("stepfunctions")
    changes = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            name = machine["name"]
            if not name.startswith(GROUP_PREFIX) or name in desired.state_machines:
                continue
            tags = {
                t["key"]: t["value"]
                for t in sfn.list_tags_for_resource(resourceArn=machine["stateMachineArn"])["tags"]
            }
            composition = tags.get(COMPOSITION_TAG, "")
            if not _ours(tags, desired) or composition in desired.groups.values():
                continue
            changes.append(
                Change(
                    action=ChangeAction.DELETE,
                    kind=ObjectKind.STATE_MACHINE,
                    name=name,
                    composition=composition,
                    calls=(
                        Call(
                            service="stepfunctions",
                            operation="delete_state_machine",
                            arguments={"stateMachineArn": machine["stateMachineArn"]},
                        ),
                    ),
                )
            )
    return changes


def _group_and_schedule_changes(aws: Aws, desired: Desired, *, prune: bool) -> list[Change]:
    scheduler = aws.client("scheduler")
    live_groups = {}
    for page in scheduler.get_paginator("list_schedule_groups").paginate(NamePrefix=GROUP_PREFIX):
        for group in page["ScheduleGroups"]:
            if group.get("State", "ACTIVE") == "ACTIVE":
                live_groups[group["Name"]] = group["Arn"]
    changes: list[Change] = []
    for group, composition in desired.groups.items():
        if group not in live_groups:
            changes.append(_create_group(group, composition, desired.deployment))
            live = {}
        else:
            live = _owned_schedules(aws, group)
        wanted = {s.name: s for s in desired.schedules.values() if s.group == group}
        changes.extend(_schedule_changes(composition, group, wanted, live))
    if prune:
        for group, arn in live_groups.items():
            if group in desired.groups:
                continue
            tags = {
                t["Key"]: t["Value"]
                for t in scheduler.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
            }
            if not _ours(tags, desired):
                continue
            changes.extend(_prune_group(aws, group, tags.get(COMPOSITION_TAG, "")))
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


def _owned_schedules(aws: Aws, group: str) -> dict[str, dict[str, Any]]:
    """Live schedules of the group that envctl created (full get_schedule output)."""
    scheduler = aws.client("scheduler")
    owned = {}
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        for summary in page["Schedules"]:
            detail = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
            if is_owned(detail.get("Description")):
                owned[summary["Name"]] = detail
    return owned


def _schedule_changes(
    composition: str,
    group: str,
    wanted: dict[str, ScheduleSpec],
    live: dict[str, dict[str, Any]],
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
        differences = spec.differences(live[name])
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
        # The pending auto-stop belongs to the runtime (start --for), not to the config.
        if name in wanted or name == AUTO_STOP:
            continue
        changes.append(_delete_schedule(group, name, composition))
    return changes


def _delete_schedule(group: str, name: str, composition: str) -> Change:
    return Change(
        action=ChangeAction.DELETE,
        kind=ObjectKind.SCHEDULE,
        name=f"{group}/{name}",
        composition=composition,
        calls=(
            Call(
                service="scheduler",
                operation="delete_schedule",
                arguments={"GroupName": group, "Name": name},
            ),
        ),
    )


def _prune_group(aws: Aws, group: str, composition: str) -> list[Change]:
    """Delete envctl's schedules, and the group itself only if nothing foreign is in it."""
    scheduler = aws.client("scheduler")
    owned = _owned_schedules(aws, group)
    changes = [_delete_schedule(group, name, composition) for name in owned]
    everything = [
        summary["Name"]
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group)
        for summary in page["Schedules"]
    ]
    if set(everything) <= set(owned):
        changes.append(
            Change(
                action=ChangeAction.DELETE,
                kind=ObjectKind.SCHEDULE_GROUP,
                name=group,
                composition=composition,
                calls=(
                    Call(
                        service="scheduler",
                        operation="delete_schedule_group",
                        arguments={"Name": group},
                    ),
                ),
            )
        )
    return changes
