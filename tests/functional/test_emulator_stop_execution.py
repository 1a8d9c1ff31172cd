"""The emulator stops an execution as Step Functions does, however soon after its start.

moto's worker builds its evaluation environment on its own thread; a StopExecution
that arrived first answered HTTP 500 (infra/emulator/fidelity.py waits for it).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from infra.emulator.server import Emulator

WAIT = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}


def test_a_stop_right_after_the_start_aborts_the_execution(
    aws_env: Emulator, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a loaded machine: the worker thread begins well after StartExecution answers.
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    begin = ExecutionWorker._execution_logic

    def late(self: Any) -> Any:
        time.sleep(0.2)
        return begin(self)

    monkeypatch.setattr(ExecutionWorker, "_execution_logic", late)
    sfn = aws_env.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/envctl-state-machine"  # moto's default account
    machine = sfn.create_state_machine(
        name=f"stop-{unique}", definition=json.dumps(WAIT), roleArn=role
    )["stateMachineArn"]

    arns = []
    for index in range(3):
        arn = sfn.start_execution(stateMachineArn=machine, name=f"run-{index}")["executionArn"]
        sfn.stop_execution(executionArn=arn)  # before the worker has begun: no 500
        arns.append(arn)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        statuses = {sfn.describe_execution(executionArn=arn)["status"] for arn in arns}
        if statuses == {"ABORTED"}:
            break
        time.sleep(0.05)
    assert statuses == {"ABORTED"}
