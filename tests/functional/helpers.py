"""Build compositions from created resources and run their state machines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scheduler_core.aws import Aws
from scheduler_core.config import Composition, Config, parse_config
from scheduler_core.resources import Action
from scheduler_core.runtime import ExecutionResult, begin, follow
from scheduler_core.settings import Settings


def composition(name: str, resources: list[Any], **settings: Any) -> Composition:
    """A composition through the real loader, from plain item dicts."""
    text = yaml.safe_dump({"compositions": {name: {**settings, "resources": resources}}})
    return parse_config(text, path=Path("compositions.yaml")).get(name)


def deploy(aws: Aws, target: Composition, settings: Settings | None = None) -> None:
    """What ``envctl apply`` does for this one composition (and nothing to the others)."""
    from scheduler_core.reconcile import apply_plan, make_plan

    config = Config(path=Path("compositions.yaml"), compositions={target.name: target})
    apply_plan(aws, make_plan(aws, settings or Settings(), config))


def deploy_file(path: Path, settings: Settings | None = None) -> None:
    """``envctl -c path apply`` (no prune): what a deployment does before any request."""
    from scheduler_core.config import load_config
    from scheduler_core.reconcile import apply_plan, make_plan

    aws = Aws()
    apply_plan(aws, make_plan(aws, settings or Settings(), load_config(str(path))))


def ensure_deployed(aws: Aws, target: Composition) -> None:
    """Deploy the composition unless its machines match it already.

    Not an apply with every call: a test's own apply (window brackets...) stays.
    """
    from scheduler_core.exceptions import NotDeployedError
    from scheduler_core.runtime import deployed_state_machine

    try:
        for action in Action:
            deployed_state_machine(aws, Settings(), target, action)
    except NotDeployedError:
        deploy(aws, target)


def run(aws: Aws, target: Composition, action: Action, **kwargs: Any) -> ExecutionResult:
    """Start the state machine (deployed first if it is not) and wait for the end."""
    ensure_deployed(aws, target)
    arn = begin(aws, Settings(), target, action, **kwargs)
    return follow(aws, arn, poll_seconds=0.1, timeout_seconds=120)


def entered_states(aws: Aws, execution_arn: str) -> list[str]:
    """Names of the states the execution entered, in history order."""
    pages = aws.client("stepfunctions").get_paginator("get_execution_history")
    names = []
    for page in pages.paginate(executionArn=execution_arn):
        for event in page["events"]:
            details = event.get("stateEnteredEventDetails")
            if details:
                names.append(details["name"])
    return names


BOOKKEEPING = {"aws-sdk:dynamodb", "aws-sdk:sfn", "aws-sdk:scheduler"}


def called_actions(aws: Aws, execution_arn: str) -> list[str]:
    """The AWS API actions the execution called (``rds:stopDBCluster``...), in order."""
    pages = aws.client("stepfunctions").get_paginator("get_execution_history")
    calls = []
    for page in pages.paginate(executionArn=execution_arn):
        for event in page["events"]:
            details = event.get("taskScheduledEventDetails")
            # Only the resource calls: the run's own bookkeeping (state records, lease,
            # audit, auto-stop) is not an "action".
            if (
                details
                and details["resourceType"].startswith("aws-sdk:")
                and details["resourceType"] not in BOOKKEEPING
            ):
                service = details["resourceType"].removeprefix("aws-sdk:")
                calls.append(f"{service}:{details['resource']}")
    return calls


def state_machine_names(sfn: Any) -> set[str]:
    """Every state machine's name; paginated, as the shared emulator holds many pages."""
    return {
        machine["name"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    }


def schedule_group_names(scheduler: Any) -> set[str]:
    """Every schedule group's name, paginated."""
    return {
        group["Name"]
        for page in scheduler.get_paginator("list_schedule_groups").paginate()
        for group in page["ScheduleGroups"]
    }


def deploy_when_first_started(monkeypatch: Any) -> None:
    """Each composition is applied the first time something starts or stops it.

    As if ``envctl apply`` had run before the test, but only for the compositions a
    test really runs: applying every composition for each of a hundred Slack or webhook
    tests would cost minutes.
    """
    from scheduler_core.runtime import executions

    checked = executions.deployed_state_machine
    applied: set[str] = set()

    def deployed(aws: Any, settings: Any, composition: Any, action: Action) -> str:
        if composition.name not in applied:
            applied.add(composition.name)
            deploy(Aws(), composition, settings)
        return checked(aws, settings, composition, action)

    monkeypatch.setattr(executions, "deployed_state_machine", deployed)
