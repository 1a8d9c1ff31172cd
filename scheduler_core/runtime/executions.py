"""Start and stop compositions, and follow an execution step by step."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.asl.fragments import PAST_TENSE
from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.exceptions import ConflictError, OperationFailedError
from scheduler_core.resources import Action
from scheduler_core.runtime.deploy import ensure_state_machine, state_machine_arn
from scheduler_core.settings import Settings


class ExecutionConflictError(ConflictError):
    """The opposite action of the same composition is still running."""


@dataclass(frozen=True, kw_only=True)
class StepEvent:
    """One finished step of an execution, for progress output."""

    subject: str
    outcome: str  # "done", "already", "waited"
    seconds: float


@dataclass(frozen=True, kw_only=True)
class ExecutionResult:
    arn: str
    status: str
    error: str | None = None
    cause: str | None = None
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def running_execution(aws: Aws, composition: str, action: Action) -> str | None:
    """ARN of a running execution of ``action`` for ``composition``, if any."""
    try:
        found = aws.client("stepfunctions").list_executions(
            stateMachineArn=state_machine_arn(aws, composition, action),
            statusFilter="RUNNING",
            maxResults=1,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "StateMachineDoesNotExist":
            return None  # not deployed yet: nothing can be running
        raise
    executions = found.get("executions", [])
    return str(executions[0]["executionArn"]) if executions else None


def begin(
    aws: Aws,
    settings: Settings,
    composition: Composition,
    action: Action,
    *,
    trigger: str = "cli",
    requested_by: str = "",
    execution_name: str | None = None,
) -> str:
    """Start the composition's ``action`` state machine and return the execution ARN.

    Raises:
        ExecutionConflictError: a start or stop of this composition is still running.
    """
    machine = ensure_state_machine(aws, settings, composition, action)
    for other in (action, Action.STOP if action is Action.START else Action.START):
        busy = running_execution(aws, composition.name, other)
        if busy:
            doing = "starting" if other is Action.START else "stopping"
            raise ExecutionConflictError(
                f"{composition.name} is still {doing} (execution {busy}); "
                f"wait for it to finish before you {action.value} it",
                execution_arn=busy,
            )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    # A name derived from the trigger (a Slack click, an idempotency key) makes a replay
    # return the same execution instead of starting a second one.
    started = aws.client("stepfunctions").start_execution(
        stateMachineArn=machine.arn,
        name=execution_name or f"{trigger}-{stamp}",
        input=json.dumps(
            {"composition": composition.name, "trigger": trigger, "requested_by": requested_by}
        ),
    )
    return str(started["executionArn"])


def follow(
    aws: Aws,
    execution_arn: str,
    *,
    on_step: Callable[[StepEvent], None] = lambda _: None,
    poll_seconds: float = 1.0,
    timeout_seconds: float | None = None,
) -> ExecutionResult:
    """Poll an execution until it ends, reporting each resource step as it finishes."""
    sfn = aws.client("stepfunctions")
    reader = _HistoryReader()
    started = time.monotonic()
    while True:
        execution = sfn.describe_execution(executionArn=execution_arn)
        for event in reader.read(sfn, execution_arn):
            on_step(event)
        status = execution["status"]
        if status != "RUNNING":
            return ExecutionResult(
                arn=execution_arn,
                status=status,
                error=execution.get("error"),
                cause=execution.get("cause"),
                seconds=_duration(execution),
            )
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise OperationFailedError(
                f"execution {execution_arn} still running after {timeout_seconds:.0f} s"
            )
        time.sleep(poll_seconds)


def _duration(execution: dict[str, Any]) -> float:
    begin_at, end_at = execution.get("startDate"), execution.get("stopDate")
    return (end_at - begin_at).total_seconds() if begin_at and end_at else 0.0


class _HistoryReader:
    """Turns new history events into StepEvents, remembering what it has seen.

    It relies on the state names the generator produces: ``Start X``/``Stop X`` for
    the action, ``Done X`` when X reached its target, ``Wait Ns`` for waits.
    """

    def __init__(self) -> None:
        self.seen_ids: set[int] = set()
        self.entered: dict[str, datetime] = {}
        self.acted: set[str] = set()

    def read(self, sfn: Any, execution_arn: str) -> Iterator[StepEvent]:
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        for page in pages:
            for event in page["events"]:
                if event["id"] in self.seen_ids:
                    continue
                self.seen_ids.add(event["id"])
                step = self._step(event)
                if step is not None:
                    yield step

    def _step(self, event: dict[str, Any]) -> StepEvent | None:
        if event["type"].endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            self.entered[name] = event["timestamp"]
            for verb in PAST_TENSE:
                if name.startswith(f"{verb} ") and " in parallel: " not in name:
                    self.acted.add(name.removeprefix(f"{verb} "))
            if name.startswith("Prepare "):
                self.entered[name.removeprefix("Prepare ")] = event["timestamp"]
            return None
        if not event["type"].endswith("StateExited"):
            return None
        name = event["stateExitedEventDetails"]["name"]
        if name.startswith("Done "):
            subject = name.removeprefix("Done ")
            outcome = "done" if subject in self.acted else "already"
        elif (
            event["type"] == "WaitStateExited"
            and name.startswith("Wait ")
            and not name.startswith("Wait for ")
        ):
            subject, outcome = name.removeprefix("Wait "), "waited"
        else:
            return None
        since = self.entered.get(subject) or self.entered.get(name) or event["timestamp"]
        return StepEvent(
            subject=subject,
            outcome=outcome,
            seconds=(event["timestamp"] - since).total_seconds(),
        )
