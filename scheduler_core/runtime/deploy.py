"""Create or update a composition's two state machines (until `apply` exists)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from scheduler_core.asl.builder import build_state_machine, definition_json, state_machine_name
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.resources import Action
from scheduler_core.settings import Settings

MANAGED_TAG = "envctl:managed"
COMPOSITION_TAG = "envctl:composition"


@dataclass(frozen=True, kw_only=True)
class StateMachineRef:
    name: str
    arn: str
    changed: bool


def state_machine_arn(aws: Aws, composition: str, action: Action) -> str:
    name = state_machine_name(composition, action)
    return f"arn:{aws.partition}:states:{aws.region}:{aws.account_id}:stateMachine:{name}"


def role_arn(aws: Aws, settings: Settings) -> str:
    return settings.state_machine_role_arn or (
        f"arn:{aws.partition}:iam::{aws.account_id}:role/envctl-state-machine"
    )


def ensure_state_machine(
    aws: Aws, settings: Settings, composition: Composition, action: Action
) -> StateMachineRef:
    """Make the state machine exist with the current definition; write only on change."""
    sfn = aws.client("stepfunctions")
    arn = state_machine_arn(aws, composition.name, action)
    name = state_machine_name(composition.name, action)
    definition = build_state_machine(composition, action)
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
            tags=[
                {"key": MANAGED_TAG, "value": "true"},
                {"key": COMPOSITION_TAG, "value": composition.name},
            ],
        )
        return StateMachineRef(name=name, arn=arn, changed=True)
    if json.loads(current["definition"]) == definition:
        return StateMachineRef(name=name, arn=arn, changed=False)
    sfn.update_state_machine(
        stateMachineArn=arn, definition=definition_json(definition), roleArn=role_arn(aws, settings)
    )
    return StateMachineRef(name=name, arn=arn, changed=True)
