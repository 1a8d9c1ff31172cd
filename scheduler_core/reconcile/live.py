"""What AWS holds now, read once before planning: the planner itself never calls AWS.

The reads are the ones the plan needs and no more: each desired state machine is
described by name; every state machine and schedule group is listed only when
pruning; a group's schedules are read when the config has the group, or when it is
a pruned group of this deployment (its tags say so).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core import names
from scheduler_core.aws import Aws
from scheduler_core.reconcile.desired import Desired
from scheduler_core.schedules import DEFAULT_DEPLOYMENT, DEPLOYMENT_TAG, MANAGED_TAG, is_owned


@dataclass(frozen=True, kw_only=True)
class LiveMachine:
    """A state machine as AWS has it.

    ``definition`` and ``role_arn`` are read for the machines the config wants;
    ``tags`` for the others (candidates for pruning).
    """

    name: str
    arn: str
    definition: dict[str, Any] | None = None
    role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LiveGroup:
    """A schedule group: its tags (read only when pruning) and its schedules.

    ``schedules`` are the ones envctl created (``get_schedule`` output by name);
    ``foreign`` names the others, which envctl never touches.
    """

    name: str
    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    schedules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    foreign: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Live:
    machines: Mapping[str, LiveMachine] = field(default_factory=dict)
    groups: Mapping[str, LiveGroup] = field(default_factory=dict)


def owned_by(tags: Mapping[str, str], deployment: str) -> bool:
    """Managed by envctl, and by this deployment (untagged objects are "default"'s)."""
    return (
        tags.get(MANAGED_TAG) == "true"
        and tags.get(DEPLOYMENT_TAG, DEFAULT_DEPLOYMENT) == deployment
    )


def read_live(aws: Aws, desired: Desired, *, arn_prefix: str, prune: bool) -> Live:
    return Live(
        machines=_machines(aws, desired, arn_prefix=arn_prefix, prune=prune),
        groups=_groups(aws, desired, prune=prune),
    )


def running_executions(aws: Aws, state_machine_arns: Iterable[str]) -> dict[str, str]:
    """Machine ARN -> the ARN of one RUNNING execution, for the machines that have one."""
    sfn = aws.client("stepfunctions")
    running = {}
    for arn in sorted(set(state_machine_arns)):
        found = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)
        if found["executions"]:
            running[arn] = str(found["executions"][0]["executionArn"])
    return running


def _machines(
    aws: Aws, desired: Desired, *, arn_prefix: str, prune: bool
) -> dict[str, LiveMachine]:
    sfn = aws.client("stepfunctions")
    machines = {}
    for name in desired.state_machines:
        try:
            found = sfn.describe_state_machine(stateMachineArn=arn_prefix + name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "StateMachineDoesNotExist":
                raise
            continue
        machines[name] = LiveMachine(
            name=name,
            arn=found["stateMachineArn"],
            definition=json.loads(found["definition"]),
            role_arn=found.get("roleArn"),
        )
    if prune:
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                name = machine["name"]
                if not name.startswith(names.PREFIX) or name in desired.state_machines:
                    continue
                arn = machine["stateMachineArn"]
                listed = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
                tags = {tag["key"]: tag["value"] for tag in listed}
                machines[name] = LiveMachine(name=name, arn=arn, tags=tags)
    return machines


def _groups(aws: Aws, desired: Desired, *, prune: bool) -> dict[str, LiveGroup]:
    scheduler = aws.client("scheduler")
    groups = {}
    for page in scheduler.get_paginator("list_schedule_groups").paginate(NamePrefix=names.PREFIX):
        for group in page["ScheduleGroups"]:
            if group.get("State", "ACTIVE") != "ACTIVE":
                continue
            name, arn = group["Name"], group["Arn"]
            if name in desired.groups:
                groups[name] = _with_schedules(aws, LiveGroup(name=name, arn=arn))
            elif prune:
                listed = scheduler.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
                tags = {tag["Key"]: tag["Value"] for tag in listed}
                found = LiveGroup(name=name, arn=arn, tags=tags)
                if owned_by(tags, desired.deployment):
                    found = _with_schedules(aws, found)
                # else another deployment's (or nobody's): its schedules are not read.
                groups[name] = found
    return groups


def _with_schedules(aws: Aws, group: LiveGroup) -> LiveGroup:
    scheduler = aws.client("scheduler")
    owned: dict[str, Mapping[str, Any]] = {}
    foreign = []
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group.name):
        for summary in page["Schedules"]:
            detail = scheduler.get_schedule(GroupName=group.name, Name=summary["Name"])
            if is_owned(detail.get("Description")):
                owned[summary["Name"]] = detail
            else:
                foreign.append(summary["Name"])
    return replace(group, schedules=owned, foreign=tuple(foreign))
