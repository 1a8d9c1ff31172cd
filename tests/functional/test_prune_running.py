"""``apply --prune`` against the emulator leaves a composition alone while it runs.

A long ``wait`` resource keeps an execution RUNNING; it is stopped at the end of
every test, and what remains in AWS is read back with boto3.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.config import Config, parse_config
from scheduler_core.reconcile import HeldPrune, apply_plan, make_plan
from scheduler_core.settings import Settings
from tests.functional.helpers import schedule_group_names, state_machine_names

ARN_PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:"


def office_hours(*, wait_seconds: int = 1, **overrides: Any) -> dict[str, Any]:
    return {
        "timezone": "Europe/Amsterdam",
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": [{"type": "wait", "params": {"seconds": wait_seconds}}],
        **overrides,
    }


def config_of(compositions: dict[str, Any]) -> Config:
    return parse_config(yaml.safe_dump({"compositions": compositions}), path=Path("c.yaml"))


def apply(config: Config, *, prune: bool = False) -> tuple[list[str], tuple[HeldPrune, ...]]:
    aws = Aws()
    plan = make_plan(aws, Settings(), config, prune=prune)
    apply_plan(aws, plan)
    return [change.describe() for change in plan.changes], plan.held


class Executions:
    """Starts long executions the way a schedule does, and stops them all at the end."""

    def __init__(self, em: Emulator) -> None:
        self.sfn = em.client("stepfunctions")
        self.started: list[str] = []

    def start(self, machine: str) -> str:
        arn = self.sfn.start_execution(
            stateMachineArn=ARN_PREFIX + machine,
            name=f"held-{len(self.started)}",
            input=json.dumps({"trigger": "schedule"}),
        )["executionArn"]
        self.started.append(arn)
        return arn

    def status(self, arn: str) -> str:
        return str(self.sfn.describe_execution(executionArn=arn)["status"])

    def stop(self, arn: str) -> None:
        self.sfn.stop_execution(executionArn=arn, cause="test over")
        self.started.remove(arn)  # its machine may be pruned now: nothing left to stop
        for _ in range(100):  # bounded: the emulator ends it within a few polls
            if self.status(arn) != "RUNNING":
                return
            time.sleep(0.05)
        raise AssertionError(f"{arn} still RUNNING after stop_execution")

    def stop_all(self) -> None:
        for arn in list(self.started):
            try:
                running = self.status(arn) == "RUNNING"
            except self.sfn.exceptions.ExecutionDoesNotExist:
                continue  # deleted with its state machine (what a failing test does)
            if running:
                self.stop(arn)


@pytest.fixture
def executions(aws_env: Emulator) -> Iterator[Executions]:
    running = Executions(aws_env)
    yield running
    running.stop_all()


def mentions(changes: list[str], name: str) -> list[str]:
    """Changes to the composition's objects (the unique suffix keeps names apart)."""
    return [change for change in changes if f"envctl-{name}" in change]


def test_a_running_composition_is_not_pruned_and_the_others_are(
    aws_env: Emulator, unique: str, executions: Executions
) -> None:
    keep, busy, idle = f"k{unique}", f"b{unique}", f"i{unique}"
    apply(
        config_of(
            {keep: office_hours(), busy: office_hours(wait_seconds=120), idle: office_hours()}
        )
    )
    execution = executions.start(f"envctl-{busy}-start")
    assert executions.status(execution) == "RUNNING"

    pruned, held = apply(config_of({keep: office_hours()}), prune=True)

    assert HeldPrune(composition=busy, execution_arn=execution) in held
    assert mentions(pruned, busy) == []
    assert f"- state machine envctl-{idle}-start" in pruned
    assert f"- schedule group envctl-{idle}" in pruned
    assert mentions(pruned, keep) == []
    sfn, scheduler = aws_env.client("stepfunctions"), aws_env.client("scheduler")
    machines = state_machine_names(sfn)
    assert {f"envctl-{busy}-start", f"envctl-{busy}-stop"} <= machines
    assert f"envctl-{idle}-start" not in machines
    assert f"envctl-{busy}" in schedule_group_names(scheduler)
    assert {
        s["Name"] for s in scheduler.list_schedules(GroupName=f"envctl-{busy}")["Schedules"]
    } == {
        "start",
        "stop",
    }
    assert executions.status(execution) == "RUNNING"

    # Once the execution has ended, the next prune removes the composition.
    executions.stop(execution)
    again, held_again = apply(config_of({keep: office_hours()}), prune=True)

    assert busy not in {entry.composition for entry in held_again}
    assert f"- state machine envctl-{busy}-start" in again
    assert f"- schedule group envctl-{busy}" in again
    assert f"envctl-{busy}-start" not in state_machine_names(sfn)


def test_a_running_execution_of_a_kept_composition_holds_nothing_back(
    aws_env: Emulator, unique: str, executions: Executions
) -> None:
    """Only pruning is held: a kept composition's schedule removal still happens."""
    keep = f"k{unique}"
    apply(config_of({keep: office_hours(wait_seconds=120)}))
    execution = executions.start(f"envctl-{keep}-start")

    changes, held = apply(
        config_of({keep: office_hours(wait_seconds=120, stop_resources_at="on-demand")}),
        prune=True,
    )

    assert keep not in {entry.composition for entry in held}
    assert f"- schedule envctl-{keep}/stop" in changes
    assert executions.status(execution) == "RUNNING"


def test_cli_apply_prune_reports_the_running_execution_and_exits_1(
    aws_env: Emulator,
    unique: str,
    executions: Executions,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    keep, busy, idle = f"k{unique}", f"b{unique}", f"i{unique}"
    path = tmp_path / "c.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "compositions": {
                    keep: office_hours(),
                    busy: office_hours(wait_seconds=120),
                    idle: office_hours(),
                }
            }
        )
    )
    assert main(["apply", "-c", str(path)]) == 0
    execution = executions.start(f"envctl-{busy}-stop")
    path.write_text(yaml.safe_dump({"compositions": {keep: office_hours()}}))
    capsys.readouterr()

    planned = main(["plan", "--prune", "--json", "-c", str(path)])
    plan = json.loads(capsys.readouterr().out)
    code = main(["apply", "--prune", "-c", str(path)])
    out, err = capsys.readouterr()

    assert planned == 0
    assert {"composition": busy, "execution_arn": execution} in plan["not_pruned"]
    assert not [c for c in plan["changes"] if c["composition"] == busy]
    assert code == 1
    assert (
        f"envctl: not pruning {busy}: execution {execution} is still running; "
        "run apply --prune again when it has finished"
    ) in err.splitlines()
    assert f"- state machine envctl-{idle}-stop" in out.splitlines()
    assert f"envctl-{busy}" not in out
    assert f"envctl-{busy}-stop" in state_machine_names(aws_env.client("stepfunctions"))
    assert executions.status(execution) == "RUNNING"
