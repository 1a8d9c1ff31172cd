"""Follow an execution step by step: its result, and each resource step as it ends.

Progress is read from the execution history by state name; the names are those of
``scheduler_core.asl.naming``, which builds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scheduler_core import names
from scheduler_core.asl import naming
from scheduler_core.asl.fragments import PAST_TENSE
from scheduler_core.aws import Aws
from scheduler_core.exceptions import OperationFailedError


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


def follow(
    aws: Aws,
    execution_arn: str,
    *,
    on_step: Callable[[StepEvent], None] = lambda _: None,
    poll_seconds: float = 1.0,
    timeout_seconds: float | None = None,
) -> ExecutionResult:
    """Poll an execution until it ends, reporting each resource step as it finishes."""
    # In the region of its state machine, which is the composition's.
    sfn = aws.at(names.arn_region(execution_arn)).client("stepfunctions")
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

    It relies on the state names the generator produces (``asl.naming``): ``Start X``
    / ``Stop X`` for the action, ``Done X`` when X reached its target, ``Wait Ns``
    for waits; a step's time counts from ``Prepare X``.
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
            self._entered(event["stateEnteredEventDetails"]["name"], event["timestamp"])
            return None
        if not event["type"].endswith("StateExited"):
            return None
        name = event["stateExitedEventDetails"]["name"]
        done = naming.DONE.parse(name)
        waited = naming.WAIT_STEP.parse(name) if event["type"] == "WaitStateExited" else None
        if done is not None:
            subject, outcome = done, "done" if done in self.acted else "already"
        elif waited is not None:
            subject, outcome = waited, "waited"
        else:
            return None
        since = self.entered.get(subject) or self.entered.get(name) or event["timestamp"]
        return StepEvent(
            subject=subject,
            outcome=outcome,
            seconds=(event["timestamp"] - since).total_seconds(),
        )

    def _entered(self, name: str, at: datetime) -> None:
        self.entered[name] = at
        for verb in PAST_TENSE:
            acted = naming.act(verb).parse(name)
            if acted is not None:
                self.acted.add(acted)
        prepared = naming.PREPARE.parse(name)
        if prepared is not None:
            self.entered[prepared] = at
