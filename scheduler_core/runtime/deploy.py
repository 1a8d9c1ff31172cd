"""Where a composition's deployed objects are, and whether they match the config.

``apply`` creates and updates state machines and schedule groups; the request path
(start, stop, extend) only finds them here, and says "run envctl apply" when they
are missing or out of date.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from scheduler_core import names
from scheduler_core.actions import Action
from scheduler_core.asl import source
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.exceptions import NotDeployedError
from scheduler_core.places import place_of
from scheduler_core.settings import Settings


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


def deployed_state_machine(
    aws: Aws, settings: Settings, composition: Composition, action: Action
) -> str:
    """The ARN of the machine ``apply`` deployed for ``action``, if it matches the config.

    Nothing here writes: ``apply`` (or the deploy-time sync) is the one writer of
    state machines. One DescribeStateMachine, and no ASL is rendered: the machine's
    recorded source fingerprint is compared with the config's (``asl.source``).

    Raises:
        NotDeployedError: the machine does not exist, or was generated from other
            resources (or another envctl version) than the config now lists.
    """
    aws = aws.at(composition.region)  # its machines are in its region
    arn = state_machine_arn(aws, composition.name, action)
    name = names.state_machine(composition.name, action)
    try:
        found = aws.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "StateMachineDoesNotExist":
            raise
        raise NotDeployedError(
            f"{composition.name} is not deployed: there is no state machine {name} in "
            f"{aws.region} (account {aws.account_id}); run `envctl apply` first"
        ) from exc
    credentials = place_of(composition, aws).role_arn
    wanted = source.fingerprint(composition, table=settings.table_name, credentials=credentials)
    if source.recorded(json.loads(found["definition"])) != wanted:
        raise NotDeployedError(
            f"{composition.name} has changed since it was deployed: state machine {name} "
            "was generated from other resources or another envctl version; "
            "run `envctl apply` first"
        )
    return arn
