"""One run at a time per composition, whoever asks, enforced by AWS (a conditional write).

Callers here are independent: each thread builds its own boto3 session and Runtime
(as separate Lambda containers do) and talks to the emulator over HTTP; one test
uses separate CLI processes. Executions are counted with boto3.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.notifier import outcome_of
from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.config import Composition
from scheduler_core.exceptions import ConflictError
from scheduler_core.resources import Action
from scheduler_core.runtime import follow
from scheduler_core.runtime.operations import Actor, Run, Runtime
from scheduler_core.runtime.store import Store
from scheduler_core.settings import Settings
from tests.functional.helpers import composition, deploy, deploy_file, entered_states

CALLERS = 20
SLOW = [{"type": "wait", "params": {"seconds": 3}}]
# For races: the winner's run outlasts every loser's attempt however loaded the machine
# is; such runs are aborted when the test has counted them.
LONG = [{"type": "wait", "params": {"seconds": 120}}]


def executions(aws: Aws, name: str, action: Action) -> list[dict[str, Any]]:
    sfn = aws.client("stepfunctions")
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{name}-{action.value}"
    try:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        return [e for page in pages for e in page["executions"]]
    except sfn.exceptions.StateMachineDoesNotExist:
        return []


def in_parallel(count: int, call: Callable[[int], Any]) -> list[Any]:
    """``count`` callers released at once; each answer, or the exception it raised."""
    barrier = threading.Barrier(count)

    def one(index: int) -> Any:
        barrier.wait()
        try:
            return call(index)
        except Exception as exc:  # the outcome is what the test inspects
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _event_of(aws: Aws, arn: str) -> dict[str, Any]:
    """The "Execution Status Change" detail EventBridge sends for a finished execution."""
    described = aws.client("stepfunctions").describe_execution(executionArn=arn)
    return {
        "executionArn": arn,
        "stateMachineArn": described["stateMachineArn"],
        "status": described["status"],
        "input": described.get("input"),
    }


def never_called(**_: Any) -> dict[str, Any]:
    raise AssertionError("describe_execution is not needed for a finished run")


def own_runtime() -> Runtime:
    """A caller of its own: its own session, clients and connection pool."""
    return Runtime(Aws(), Settings())


def finish(aws: Aws, arn: str) -> None:
    assert follow(aws, arn, poll_seconds=0.1, timeout_seconds=120).succeeded


@pytest.fixture
def target(aws_env: Emulator, unique: str) -> Composition:
    deployed = composition(f"r{unique}", SLOW)
    deploy(Aws(), deployed)
    return deployed


@pytest.fixture
def long_running(aws_env: Emulator, unique: str) -> Composition:
    deployed = composition(f"l{unique}", LONG)
    deploy(Aws(), deployed)
    return deployed


def abort(aws: Aws, arn: str) -> None:
    aws.client("stepfunctions").stop_execution(executionArn=arn)


@pytest.mark.parametrize("keyed", [False, True], ids=["no-key", "same-key"])
def test_parallel_starts_make_exactly_one_execution(
    aws: Aws, long_running: Composition, keyed: bool
) -> None:
    target = long_running

    def start(index: int) -> Run:
        return own_runtime().start(
            target,
            actor=Actor(who=f"caller{index}", via="webhook"),
            execution_name="webhook-same-key" if keyed else None,
        )

    runs = in_parallel(CALLERS, start)

    assert all(isinstance(run, Run) for run in runs), runs
    [execution] = executions(aws, target.name, Action.START)
    assert {run.execution_arn for run in runs} == {execution["executionArn"]}
    if not keyed:
        assert sum(not run.joined for run in runs) == 1
    abort(aws, execution["executionArn"])


def test_starts_racing_stops_never_run_both(aws: Aws, long_running: Composition) -> None:
    target = long_running

    def either(index: int) -> Run:
        runtime, actor = own_runtime(), Actor(who=f"caller{index}", via="cli")
        if index % 2:
            return runtime.stop(target, actor=actor)
        return runtime.start(target, actor=actor)

    outcomes = in_parallel(CALLERS, either)

    started = executions(aws, target.name, Action.START)
    stopped = executions(aws, target.name, Action.STOP)
    [winner] = started + stopped
    winning = Action.START if started else Action.STOP
    for outcome in outcomes:
        if isinstance(outcome, Run) and outcome.action is winning:
            assert outcome.execution_arn == winner["executionArn"]
        else:
            # The opposite action is refused, naming the run in progress.
            assert isinstance(outcome, ConflictError), outcome
            assert outcome.execution_arn == winner["executionArn"]
    refusals = [e for e in Store(aws, "envctl").history(target.name, limit=50)]
    assert sum(e.what.startswith("refused") for e in refusals) == sum(
        isinstance(o, ConflictError) for o in outcomes
    )
    abort(aws, winner["executionArn"])


def test_scheduled_start_racing_a_requested_start_runs_the_resources_once(
    aws: Aws, target: Composition
) -> None:
    runtime = own_runtime()
    # The machine exists, as after apply; the schedule starts it directly, as Scheduler does.
    first = runtime.start(target, actor=Actor(who="warm-up", via="cli"))
    finish(aws, first.execution_arn)
    machine = first.execution_arn.split(":execution:")[1].split(":")[0]
    machine_arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}"

    def either(index: int) -> str:
        if index == 0:
            started = (
                Aws()
                .client("stepfunctions")
                .start_execution(
                    stateMachineArn=machine_arn,
                    input='{"trigger": "schedule"}',
                    name=f"sched-{index}",
                )
            )
            return str(started["executionArn"])
        return own_runtime().start(target, actor=Actor(who="ann", via="slack")).execution_arn

    scheduled, requested = in_parallel(2, either)

    for arn in {scheduled, requested}:
        finish(aws, arn)
    arns = {scheduled, requested}
    ran = [arn for arn in arns if f"Record {target.name} starting" in entered_states(aws, arn)]
    assert len(ran) == 1  # only one of them runs the resources
    skipped = [e for e in Store(aws, "envctl").history(target.name) if e.what == "skipped start"]
    if requested == scheduled:
        # The request came second and joined the scheduled run.
        assert skipped == []
    else:
        # Scheduler always starts its own execution: whichever came second did nothing.
        [idle] = arns - set(ran)
        assert f"Start of {target.name} left alone" in entered_states(aws, idle)
        # Its output says it did nothing, so the notifier does not report it as a start.
        output = aws.client("stepfunctions").describe_execution(executionArn=idle)["output"]
        assert outcome_of({**_event_of(aws, idle), "output": output}, never_called) is None
        assert len(skipped) == 1 and "in progress" in skipped[0].detail


def test_lease_of_a_run_that_was_aborted_is_taken_over(aws: Aws, target: Composition) -> None:
    runtime = own_runtime()
    aborted = runtime.start(target, actor=Actor(who="ann", via="cli"))
    sfn = aws.client("stepfunctions")
    while f"Run start of {target.name}" not in entered_states(aws, aborted.execution_arn):
        pass
    # Aborted runs never reach their release state: the lease still names them.
    sfn.stop_execution(executionArn=aborted.execution_arn)

    again = runtime.start(target, actor=Actor(who="bob", via="cli"))

    assert not again.joined and again.execution_arn != aborted.execution_arn
    finish(aws, again.execution_arn)
    assert f"Record {target.name} starting" in entered_states(aws, again.execution_arn)


def test_separate_cli_processes_start_one_execution(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path
) -> None:
    name = f"p{unique}"
    config = tmp_path / "compositions.yaml"
    # Long enough that no process can start after the winner's run has ended: starting
    # Python processes on a loaded machine takes seconds.
    config.write_text(yaml.safe_dump({"compositions": {name: {"resources": LONG}}}))
    deploy_file(config)
    environment = {**os.environ, **aws_env.environment()}
    command = [sys.executable, "-m", "scheduler_core.cli.main", "-c", str(config), "start", name]
    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]

    assert [process.returncode for process in processes] == [0] * 6
    [execution] = executions(aws, name, Action.START)
    assert all(execution["executionArn"] in output for output in outputs)
    assert sum("already starting" in output for output in outputs) == 5
    abort(aws, execution["executionArn"])


@pytest.mark.parametrize("command", [["start"], ["start", "--for", "2h"], ["stop"], ["pause"]])
def test_missing_table_is_named_and_changes_nothing(
    aws_env: Emulator,
    aws: Aws,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    from scheduler_core.cli.main import main
    from scheduler_core.reconcile import apply_plan, make_plan
    from tests.functional.test_reconcile import config_of

    name = f"t{unique}"
    body = {
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": SLOW,
    }
    # Deployed for that table (the machines record to it), which then is not there.
    apply_plan(aws, make_plan(aws, Settings(table_name="nope"), config_of({name: body})))
    path = tmp_path / "compositions.yaml"
    path.write_text(yaml.safe_dump({"compositions": {name: body}}))
    scheduler = aws.client("scheduler")
    before = scheduler.list_schedules(GroupName=f"envctl-{name}")["Schedules"]
    monkeypatch.setenv("ENVCTL_TABLE", "nope")

    assert main(["-c", str(path), *command[:1], name, *command[1:]]) == 1

    err = capsys.readouterr().err
    assert err == (
        'envctl: the envctl table "nope" does not exist in us-east-1 (account 123456789012); '
        "deploy the envctl stack there, or start `envctl local` for the local emulator, "
        "or set ENVCTL_TABLE to the table's name\n"
    )
    assert executions(aws, name, Action.START) == executions(aws, name, Action.STOP) == []
    assert scheduler.list_schedules(GroupName=f"envctl-{name}")["Schedules"] == before


def test_window_bracket_yields_to_a_run_in_progress(aws_env: Emulator, unique: str) -> None:
    from datetime import UTC, datetime

    from scheduler_core.runtime.deploy import execution_arn
    from scheduler_core.runtime.lease import Lease
    from tests.functional.helpers import run
    from tests.functional.test_runtime_operations import _bracketed, fire

    target, database, aws = _bracketed(aws_env, unique)
    assert run(aws, target, Action.STOP).succeeded
    lease = Lease(aws, "envctl", target.name)
    someone = execution_arn(aws, target.name, Action.START, "someone-starting")
    assert lease.reserve(execution_arn=someone, action=Action.START, now=datetime.now(UTC)) is None

    fire(aws, f"envctl-{target.name}", "window-k1-start")

    assert database.read() == "stopped"  # the bracket left it to the run in progress
    [entry] = [e for e in Store(aws, "envctl").history(target.name) if e.via == "window"]
    assert entry.what == "skipped window bracket" and someone in entry.detail

    lease.cancel(someone)
    fire(aws, f"envctl-{target.name}", "window-k1-start")

    assert database.read() == "available"


def test_scheduled_start_during_a_run_does_nothing_and_says_so(
    aws: Aws, target: Composition
) -> None:
    from scheduler_core.runtime.deploy import execution_arn
    from scheduler_core.runtime.lease import Lease

    runtime = own_runtime()
    finish(aws, runtime.start(target, actor=Actor(who="warm-up", via="cli")).execution_arn)
    someone = execution_arn(aws, target.name, Action.STOP, "someone-stopping")
    now = datetime.now(UTC)
    assert (
        Lease(aws, "envctl", target.name).reserve(
            execution_arn=someone, action=Action.STOP, now=now
        )
        is None
    )
    sfn = aws.client("stepfunctions")
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{target.name}-start"

    scheduled = sfn.start_execution(
        stateMachineArn=machine, input='{"trigger": "schedule"}', name="sched-busy"
    )["executionArn"]

    finish(aws, scheduled)
    visited = entered_states(aws, scheduled)
    assert f"Start of {target.name} left alone" in visited
    assert f"Record {target.name} starting" not in visited
    [skipped] = [e for e in Store(aws, "envctl").history(target.name) if e.via == "schedule"]
    assert (skipped.what, skipped.detail) == (
        "skipped start",
        f"a stop is in progress (execution {someone})",
    )
    output = sfn.describe_execution(executionArn=scheduled)["output"]
    assert outcome_of({**_event_of(aws, scheduled), "output": output}, never_called) is None
