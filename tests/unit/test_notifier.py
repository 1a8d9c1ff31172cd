"""Which Step Functions events the notifier acts on, and what it reads from them."""

from __future__ import annotations

import json
from typing import Any

from bot.notifier import outcome_of

ARN = "arn:aws:states:us-east-1:123456789012"


def detail(**overrides: Any) -> dict[str, Any]:
    return {
        "executionArn": f"{ARN}:execution:envctl-staging-start:slack-1",
        "stateMachineArn": f"{ARN}:stateMachine:envctl-staging-start",
        "name": "slack-1",
        "status": "SUCCEEDED",
        "startDate": 1_700_000_000_000,
        "stopDate": 1_700_000_123_000,
        "input": json.dumps({"trigger": "slack"}),
        **overrides,
    }


def never(**_: Any) -> dict[str, Any]:
    raise AssertionError("describe_execution must not be called")


def test_succeeded_start_is_read_from_the_event() -> None:
    outcome = outcome_of(detail(), never)

    assert outcome is not None
    assert (outcome.composition, outcome.action, outcome.trigger) == ("staging", "start", "slack")
    assert outcome.seconds == 123.0 and outcome.succeeded


def test_failure_without_cause_is_completed_from_the_execution() -> None:
    def describe(executionArn: str) -> dict[str, str]:
        return {"error": "envctl.ResourceFailed", "cause": "rds_instance db: not found"}

    outcome = outcome_of(detail(status="FAILED"), describe)

    assert outcome is not None and not outcome.succeeded
    assert outcome.cause == "rds_instance db: not found"


def test_compositions_with_dashes_keep_their_name() -> None:
    outcome = outcome_of(
        detail(stateMachineArn=f"{ARN}:stateMachine:envctl-web-shop-qa-stop"), never
    )

    assert outcome is not None and (outcome.composition, outcome.action) == ("web-shop-qa", "stop")


def test_other_machines_running_states_and_window_machines_are_ignored() -> None:
    assert outcome_of(detail(stateMachineArn=f"{ARN}:stateMachine:orders-start"), never) is None
    assert outcome_of(detail(status="RUNNING"), never) is None
    assert (
        outcome_of(detail(stateMachineArn=f"{ARN}:stateMachine:envctl-staging-windows"), never)
        is None
    )


def test_runs_that_did_nothing_are_not_reported_as_started() -> None:
    skipped = json.dumps({"composition": "staging", "skipped": "skip flag"})
    busy = json.dumps({"composition": "staging", "skipped": "in progress", "execution": "x"})

    assert outcome_of(detail(output=skipped), never) is None
    assert outcome_of(detail(output=busy), never) is None
    done = outcome_of(detail(output=json.dumps({"composition": "staging"})), never)
    assert done is not None and done.succeeded
    assert outcome_of(detail(output="not json"), never) is not None
