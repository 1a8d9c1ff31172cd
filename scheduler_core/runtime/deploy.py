"""Create or update a composition's state machines and schedule group on demand.

``start``/``stop`` work before the first ``apply`` (and after a config change) by
making sure what they need exists; ``apply`` is still what manages everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.asl.builder import build_state_machine, definition_json
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.schedules import ownership_tags
from scheduler_core.settings import Settings


@dataclass(frozen=True, kw_only=True)
class StateMachineRef:
    name: str
    arn: str
    changed: bool


def state_machine_arn_prefix(aws: Aws) -> str:
    """``arn:aws:states:<region>:<account>:stateMachine:`` of the caller's account."""
    return f"arn:{aws.partition}:states:{aws.region}:{aws.account_id}:stateMachine:"


def state_machine_arn(aws: Aws, composition: str, action: Action) -> str:
    return state_machine_arn_prefix(aws) + names.state_machine(composition, action)


def execution_arn(aws: Aws, composition: str, action: Action, name: str) -> str:
    """The ARN an execution named ``name`` of the composition's machine gets."""
    machine = names.state_machine(composition, action)
    return f"arn:{aws.partition}:states:{aws.region}:{aws.account_id}:execution:{machine}:{name}"


def role_arn(aws: Aws, settings: Settings) -> str:
    return settings.state_machine_role_arn or (
        f"arn:{aws.partition}:iam::{aws.account_id}:role/{names.STATE_MACHINE_ROLE}"
    )


def scheduler_role_arn(aws: Aws, settings: Settings) -> str:
    return settings.scheduler_role_arn or (
        f"arn:{aws.partition}:iam::{aws.account_id}:role/{names.SCHEDULER_ROLE}"
    )


def ensure_state_machine(
    aws: Aws, settings: Settings, composition: Composition, action: Action
) -> StateMachineRef:
    """Make the state machine exist with the current definition; write only on change."""
    sfn = aws.client("stepfunctions")
    arn = state_machine_arn(aws, composition.name, action)
    name = names.state_machine(composition.name, action)
    definition = build_state_machine(composition, action, table=settings.table_name)
    try:
        current = sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "StateMachineDoesNotExist":
            raise
        sfn.create_state_machine(
            name=name,
            definition=definition_json(definition),
            roleArn=role_arn(aws, settings),
            type="STANDARD",
            tags=ownership_tags(composition.name, settings.deployment, key="key", value="value"),
        )
        return StateMachineRef(name=name, arn=arn, changed=True)
    if json.loads(current["definition"]) == definition:
        return StateMachineRef(name=name, arn=arn, changed=False)
    sfn.update_state_machine(
        stateMachineArn=arn, definition=definition_json(definition), roleArn=role_arn(aws, settings)
    )
    return StateMachineRef(name=name, arn=arn, changed=True)


def ensure_schedule_group(aws: Aws, composition: str, *, deployment: str) -> str:
    """Create the composition's schedule group if it is missing; returns its name."""
    scheduler = aws.client("scheduler")
    group = names.schedule_group(composition)
    try:
        scheduler.get_schedule_group(Name=group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        scheduler.create_schedule_group(
            Name=group,
            Tags=ownership_tags(composition, deployment),
        )
    return group
