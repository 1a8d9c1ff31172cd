"""Resources take time: state machines poll through transitional states and faults.

The emulator's lifecycle (infra/emulator/lifecycle.py) keeps every resource in its
real transitional state for a while. The per-kind tests hold the resource in its
transition until the run has entered its first ``Wait for …`` state, so the poll that
sees the transition does not depend on how busy the machine is; the others slow the
emulator so that a transition outlasts a describe. Each asserts from the execution
history: the describe results at ``$.poll``, the ``Wait for …`` states entered, the
``Done …`` state that ended the step.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from infra.emulator import lifecycle
from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.resources import REGISTRY, Action
from scheduler_core.runtime import ExecutionResult, begin, follow
from scheduler_core.settings import Settings
from tests.functional import moto_resources
from tests.functional.helpers import (
    called_actions,
    composition,
    ensure_deployed,
    entered_states,
    run,
)

Poll = dict[str, Any]
# Real seconds a cluster start lasts where a test reads it from outside a run.
SLOW_SECONDS = 5.0
RACE_TIMEOUTS = {"rds_instance": 1800, "ec2_instance": 300}


def history(aws: Aws, arn: str) -> list[dict[str, Any]]:
    pages = aws.client("stepfunctions").get_paginator("get_execution_history")
    return [event for page in pages.paginate(executionArn=arn) for event in page["events"]]


def polls(aws: Aws, arn: str, subject: str) -> list[Poll]:
    """What each ``Describe <subject>`` put at ``$.poll``, in order."""
    found = []
    for event in history(aws, arn):
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == f"Describe {subject}":
            found.append(json.loads(details["output"])["poll"])
    return found


def actions_taken(aws: Aws, arn: str) -> list[str]:
    """The resource calls other than describes: the starts and stops."""
    return [action for action in called_actions(aws, arn) if ":describe" not in action]


def task_errors(aws: Aws, arn: str, prefix: str) -> list[str]:
    """Errors of failed tasks whose name starts with ``prefix`` (not the bookkeeping's)."""
    errors = [
        event["taskFailedEventDetails"]["error"]
        for event in history(aws, arn)
        if "taskFailedEventDetails" in event
    ]
    return [error for error in errors if error.startswith(prefix)]


def subject_of(item: dict[str, Any]) -> str:
    kind = REGISTRY[item["type"]]
    params = kind.params_model.model_validate(item["params"])
    return f"{item['type']} {kind.label(params)}"


def settle(read: Callable[[], str], expected: str, timeout: float = 10) -> None:
    """Wait (outside any state machine) until the resource reads ``expected``."""
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected:
        assert time.monotonic() < deadline, f"still {seen!r}, expected {expected!r}"
        time.sleep(0.01)


def resource_id(item: dict[str, Any]) -> str:
    """The id the emulator's faults know the resource by."""
    params = item["params"]
    if item["type"] in ("ecs_service", "eks_nodegroup"):
        return f"{params['cluster_name']}/{params['name']}"
    return str(params.get("id") or params["name"])


def run_held(
    aws: Aws,
    target: Any,
    action: Action,
    item: dict[str, Any],
    hold: contextlib.AbstractContextManager[Any] | None = None,
) -> ExecutionResult:
    """Run ``action`` while ``hold`` lasts, until the run has polled the resource once.

    ``hold`` defaults to keeping the resource in its transition (``never_ready``). A
    fixed transition length races the machine's load (on a busy CI runner a describe
    can come after the transition is over); lifting the hold only once the first
    ``Wait for …`` state has been entered makes that poll certain.
    """
    waiting = f"Wait for {subject_of(item)}"
    ensure_deployed(aws, target)
    with hold or lifecycle.never_ready(resource_id(item)):
        arn = begin(aws, Settings(), target, action)
        deadline = time.monotonic() + 60
        while waiting not in entered_states(aws, arn):
            assert time.monotonic() < deadline, f"{waiting!r} never entered"
            time.sleep(0.05)
    return follow(aws, arn, poll_seconds=0.1, timeout_seconds=120)


@dataclass(frozen=True)
class KindCase:
    create: Callable[[Emulator, str], moto_resources.Created]
    started: str  # what Created.read() says once started
    stopped: str
    # Whether a poll shows the resource on its way (not yet ready), by action.
    in_transition: Callable[[Poll, Action], bool]


def status_is(starting: str, stopping: str) -> Callable[[Poll, Action], bool]:
    return lambda poll, action: poll["status"] == (starting if action is Action.START else stopping)


def ecs_in_transition(poll: Poll, action: Action) -> bool:
    target = 2 if action is Action.START else 0
    return poll["desired"] == [target] and poll["running"] != [target]


def asg_in_transition(poll: Poll, action: Action) -> bool:
    if action is Action.START:
        return poll["desired"] == [2] and len(poll["in_service"]) < 2
    return poll["desired"] == [0] and len(poll["instances"]) > 0


def fsx_in_transition(poll: Poll, action: Action) -> bool:
    return poll["pending"] == ["FILE_SYSTEM_UPDATE"]


CASES: dict[str, KindCase] = {
    "rds_instance": KindCase(
        moto_resources.rds_instance,
        "available",
        "stopped",
        status_is("starting", "stopping"),
    ),
    "rds_cluster": KindCase(
        lambda em, name: moto_resources.rds_cluster(em, name, members=2),
        "available",
        "stopped",
        status_is("starting", "stopping"),
    ),
    "docdb_cluster": KindCase(
        lambda em, name: moto_resources.docdb_cluster(em, name, members=2),
        "available",
        "stopped",
        status_is("starting", "stopping"),
    ),
    "neptune_cluster": KindCase(
        lambda em, name: moto_resources.neptune_cluster(em, name, members=2),
        "available",
        "stopped",
        status_is("starting", "stopping"),
    ),
    "redshift_cluster": KindCase(
        moto_resources.redshift_cluster,
        "available",
        "paused",
        status_is("resuming", "pausing"),
    ),
    "ec2_instance": KindCase(
        moto_resources.ec2_instance,
        "running",
        "stopped",
        status_is("pending", "stopping"),
    ),
    "ecs_service": KindCase(
        moto_resources.ecs_service,
        "2/2",
        "0/0",
        ecs_in_transition,
    ),
    "auto_scaling_group": KindCase(
        moto_resources.auto_scaling_group,
        "1/4/2 2 in service",
        "0/0/0 0 in service",
        asg_in_transition,
    ),
    "efs_file_system": KindCase(
        moto_resources.efs_file_system,
        "64",
        "1",
        status_is("updating", "updating"),
    ),
    "fsx_windows_file_system": KindCase(
        moto_resources.fsx_windows_file_system,
        "64",
        "32",
        fsx_in_transition,
    ),
    "eks_nodegroup": KindCase(
        moto_resources.eks_nodegroup,
        "ACTIVE 1/4/2",
        "ACTIVE 0/4/0",
        status_is("UPDATING", "UPDATING"),
    ),
    "sagemaker_notebook_instance": KindCase(
        moto_resources.sagemaker_notebook_instance,
        "InService",
        "Stopped",
        status_is("Pending", "Stopping"),
    ),
}


def test_every_kind_with_a_resource_has_a_case() -> None:
    assert set(CASES) == {name for name, kind in REGISTRY.items() if kind.has_resource}


def assert_polled_through(
    aws: Aws, arn: str, subject: str, case: KindCase, action: Action
) -> list[Poll]:
    entered = entered_states(aws, arn)
    assert entered.count(f"Wait for {subject}") >= 1
    assert entered[-1] == f"Done {subject}" or f"Done {subject}" in entered
    seen = polls(aws, arn, subject)
    assert any(case.in_transition(poll, action) for poll in seen), seen
    assert not case.in_transition(seen[-1], action)  # the step ended on a ready poll
    return seen


@pytest.mark.parametrize("kind", sorted(CASES))
def test_stop_polls_through_the_transitional_state(
    aws_env: Emulator, aws: Aws, unique: str, kind: str
) -> None:
    case = CASES[kind]
    created = case.create(aws_env, f"t-{unique}")
    target = composition(f"c-{unique}", [created.item])

    result = run_held(aws, target, Action.STOP, created.item)

    assert result.status == "SUCCEEDED", result.cause
    assert_polled_through(aws, result.arn, subject_of(created.item), case, Action.STOP)
    assert created.read() == case.stopped


@pytest.mark.parametrize("kind", sorted(CASES))
def test_start_polls_through_the_transitional_state(
    aws_env: Emulator, aws: Aws, unique: str, kind: str
) -> None:
    case = CASES[kind]
    created = case.create(aws_env, f"t-{unique}")
    target = composition(f"c-{unique}", [created.item])
    assert run(aws, target, Action.STOP).status == "SUCCEEDED"  # at the default speed

    result = run_held(aws, target, Action.START, created.item)

    assert result.status == "SUCCEEDED", result.cause
    assert_polled_through(aws, result.arn, subject_of(created.item), case, Action.START)
    assert created.read() == case.started


def test_cluster_is_available_before_its_members_are(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    """As AWS can: the emulated cluster finishes first, its member instances later."""
    created = moto_resources.rds_cluster(aws_env, f"m-{unique}", members=2)
    rds = aws_env.client("rds")

    def member_statuses() -> list[str]:
        found = rds.describe_db_instances(
            Filters=[{"Name": "db-cluster-id", "Values": [f"m-{unique}"]}]
        )
        return sorted(i["DBInstanceStatus"] for i in found["DBInstances"])

    target = composition(f"c-{unique}", [created.item])
    assert run(aws, target, Action.STOP).status == "SUCCEEDED"
    assert member_statuses() == ["stopped", "stopped"]
    with lifecycle.at_speed(lifecycle.BASE_SECONDS["rds_cluster.start"] / SLOW_SECONDS):
        rds.start_db_cluster(DBClusterIdentifier=f"m-{unique}")
        assert created.read() == "starting"
        assert member_statuses() == ["starting", "starting"]
        settle(created.read, "available", timeout=6 * SLOW_SECONDS)
        assert member_statuses() == ["starting", "starting"]
        settle(lambda: ",".join(member_statuses()), "available,available", timeout=SLOW_SECONDS)


def member_polls(aws: Aws, arn: str, subject: str) -> list[tuple[int, Poll]]:
    """(history index, ``$.poll``) after each ``Describe members of <subject>``, in order."""
    return [
        (index, json.loads(event["stateExitedEventDetails"]["output"])["poll"])
        for index, event in enumerate(history(aws, arn))
        if event.get("stateExitedEventDetails", {}).get("name") == f"Describe members of {subject}"
    ]


def lagging(poll: Poll) -> list[str]:
    """The members the poll saw out of the target status (sorting before or after it)."""
    return sorted([*poll["members"]["before"], *poll["members"]["after"]])


@pytest.mark.parametrize(
    ("action", "target"), [(Action.START, "available"), (Action.STOP, "stopped")]
)
def test_cluster_step_is_done_only_once_every_member_is(
    aws_env: Emulator, aws: Aws, unique: str, action: Action, target: str
) -> None:
    created = moto_resources.rds_cluster(aws_env, f"p-{unique}", members=2)
    member, subject = f"p-{unique}-1", subject_of(created.item)
    composed = composition(f"c-{unique}", [created.item])
    if action is Action.START:
        assert run(aws, composed, Action.STOP).status == "SUCCEEDED"
    ensure_deployed(aws, composed)

    def member_seen_behind() -> bool:
        return any(
            poll["status"] == target and lagging(poll) == [member]
            for _, poll in member_polls(aws, arn, subject)
        )

    # One member's transition is held until a poll has seen the cluster done without it.
    with lifecycle.never_ready(member):
        arn = begin(aws, Settings(), composed, action)
        deadline = time.monotonic() + 60
        while not member_seen_behind():
            assert time.monotonic() < deadline, member_polls(aws, arn, subject)
            time.sleep(0.05)
        # The status read agrees: not running (or stopped) while a member is behind.
        params = composed.items()[0].params
        status = REGISTRY["rds_cluster"].read_status(params, aws)
        assert (status.state, status.detail) == (
            "transitioning",
            f"{target}; members not yet {target}: {member}",
        )
    result = follow(aws, arn, poll_seconds=0.1, timeout_seconds=120)

    assert result.status == "SUCCEEDED", result.cause
    seen = member_polls(aws, arn, subject)
    behind = next(i for i, poll in seen if poll["status"] == target and lagging(poll) == [member])
    last_index, last = seen[-1]
    assert last["status"] == target and lagging(last) == []
    names = [event.get("stateEnteredEventDetails", {}).get("name") for event in history(aws, arn)]
    done = names.index(f"Done {subject}")
    # The poll that saw the cluster done but a member not yet led to a wait, not to Done.
    assert behind < names.index(f"Wait for {subject}", behind) < last_index < done
    rds = aws_env.client("rds")
    members = rds.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [f"p-{unique}"]}]
    )
    assert {i["DBInstanceStatus"] for i in members["DBInstances"]} == {target}


def test_stop_waits_while_the_instance_is_stopping(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"s-{unique}")
    subject = subject_of(created.item)

    result = run_held(aws, composition(f"c-{unique}", [created.item]), Action.STOP, created.item)

    assert result.status == "SUCCEEDED"
    statuses = [poll["status"] for poll in polls(aws, result.arn, subject)]
    # available (so it stops), then stopping for a few polls, and success only on stopped.
    assert statuses[0] == "available"
    assert statuses[-1] == "stopped"
    assert set(statuses[1:-1]) == {"stopping"} and len(statuses) >= 3
    entered = entered_states(aws, result.arn)
    last_wait = len(entered) - 1 - entered[::-1].index(f"Wait for {subject}")
    assert entered.index(f"Done {subject}") > last_wait
    assert actions_taken(aws, result.arn) == ["rds:stopDBInstance"]


@contextlib.contextmanager
def held_after(resource_id: str, act: Callable[[], None]) -> Iterator[None]:
    """Hold the resource's transitions, then ``act`` (begin one) while they are held."""
    with lifecycle.never_ready(resource_id):
        act()
        yield


def _begin(aws_env: Emulator, kind: str, action: Action, created: moto_resources.Created) -> None:
    """Ask AWS directly (not envctl) to start or stop the resource."""
    resource_id = created.item["params"]["id"]
    if kind == "rds_instance":
        rds = aws_env.client("rds")
        call = rds.start_db_instance if action is Action.START else rds.stop_db_instance
        call(DBInstanceIdentifier=resource_id)
    else:
        ec2 = aws_env.client("ec2")
        call = ec2.start_instances if action is Action.START else ec2.stop_instances
        call(InstanceIds=[resource_id])


@pytest.mark.parametrize("kind", ["rds_instance", "ec2_instance"])
def test_stop_while_starting_waits_for_the_start_then_stops(
    aws_env: Emulator, aws: Aws, unique: str, kind: str
) -> None:
    case = CASES[kind]
    created = case.create(aws_env, f"w-{unique}")
    subject = subject_of(created.item)
    _begin(aws_env, kind, Action.STOP, created)
    settle(created.read, case.stopped)

    item = {**created.item, "ready_timeout_seconds": RACE_TIMEOUTS[kind]}

    starting = held_after(resource_id(item), lambda: _begin(aws_env, kind, Action.START, created))
    result = run_held(aws, composition(f"c-{unique}", [item]), Action.STOP, item, hold=starting)

    assert result.status == "SUCCEEDED", result.cause
    statuses = [poll["status"] for poll in polls(aws, result.arn, subject)]
    starting = status_is_start(kind)
    assert statuses[0] == starting  # seen while starting: neither ready nor actionable
    assert case.started in statuses  # waited for the start to finish
    assert statuses[-1] == "stopped"
    first_stop = statuses.index(case.started)
    assert set(statuses[:first_stop]) == {starting}
    service = "rds" if kind == "rds_instance" else "ec2"
    verb = "stopDBInstance" if kind == "rds_instance" else "stopInstances"
    assert actions_taken(aws, result.arn) == [f"{service}:{verb}"]
    assert created.read() == "stopped"


def status_is_start(kind: str) -> str:
    return "starting" if kind == "rds_instance" else "pending"


@pytest.mark.parametrize("kind", ["rds_instance", "ec2_instance"])
def test_start_while_stopping_waits_for_the_stop_then_starts(
    aws_env: Emulator, aws: Aws, unique: str, kind: str
) -> None:
    case = CASES[kind]
    created = case.create(aws_env, f"w-{unique}")
    subject = subject_of(created.item)

    item = {**created.item, "ready_timeout_seconds": RACE_TIMEOUTS[kind]}

    stopping = held_after(resource_id(item), lambda: _begin(aws_env, kind, Action.STOP, created))
    result = run_held(aws, composition(f"c-{unique}", [item]), Action.START, item, hold=stopping)

    assert result.status == "SUCCEEDED", result.cause
    statuses = [poll["status"] for poll in polls(aws, result.arn, subject)]
    assert statuses[0] == "stopping"
    assert "stopped" in statuses
    assert set(statuses[: statuses.index("stopped")]) == {"stopping"}
    assert statuses[-1] == case.started
    service, verb = (
        ("rds", "startDBInstance") if kind == "rds_instance" else ("ec2", "startInstances")
    )
    assert actions_taken(aws, result.arn) == [f"{service}:{verb}"]
    assert created.read() == case.started


def test_stop_is_refused_while_the_instance_is_backing_up(aws_env: Emulator, unique: str) -> None:
    created = moto_resources.rds_instance(aws_env, f"b-{unique}")
    rds = aws_env.client("rds")

    with lifecycle.blocked(f"b-{unique}", "backing-up", seconds=3600):
        assert created.read() == "backing-up"
        with pytest.raises(rds.exceptions.InvalidDBInstanceStateFault):
            rds.stop_db_instance(DBInstanceIdentifier=f"b-{unique}")
    assert created.read() == "available"


def test_stop_while_backing_up_waits_until_the_backup_ends(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"b-{unique}")
    subject = subject_of(created.item)

    # The backup lasts until the run has seen it once, then ends.
    backup = lifecycle.blocked(f"b-{unique}", "backing-up", seconds=10**9)
    target = composition(f"c-{unique}", [created.item])
    result = run_held(aws, target, Action.STOP, created.item, hold=backup)

    assert result.status == "SUCCEEDED", result.cause
    statuses = [poll["status"] for poll in polls(aws, result.arn, subject)]
    assert statuses[0] == "backing-up"
    available = statuses.index("available")  # the backup ended, then the stop began
    assert set(statuses[:available]) == {"backing-up"}
    assert statuses[-1] == "stopped" and "stopping" in statuses[available:]
    assert actions_taken(aws, result.arn) == ["rds:stopDBInstance"]


def test_stop_while_backing_up_past_the_timeout_fails_naming_the_backup(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"b-{unique}")
    item = {**created.item, "ready_timeout_seconds": 3}

    with lifecycle.blocked(f"b-{unique}", "backing-up", seconds=10**9):
        result = run(aws, composition(f"c-{unique}", [item]), Action.STOP)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceNotReady"
    assert result.cause == (
        f"rds_instance b-{unique} was not stopped within 3 s; "
        'last observed: {"status":"backing-up"}'
    )
    assert actions_taken(aws, result.arn) == []


def _stopped(aws: Aws, created: moto_resources.Created, unique: str) -> None:
    """Stop it first, with the default timeout: a 3-minute stop outlasts a few seconds'."""
    assert run(aws, composition(f"s-{unique}", [created.item]), Action.STOP).status == "SUCCEEDED"


def test_a_resource_that_never_becomes_ready_fails_naming_the_last_state(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"n-{unique}")
    item = {**created.item, "ready_timeout_seconds": 4}
    target = composition(f"c-{unique}", [item])
    _stopped(aws, created, unique)

    with lifecycle.never_ready(f"n-{unique}"):
        result = run(aws, target, Action.START)
        assert created.read() == "starting"

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceNotReady"
    assert result.cause == (
        f"rds_instance n-{unique} was not started within 4 s; "
        'last observed: {"status":"starting"}'
    )
    waits = [s for s in entered_states(aws, result.arn) if s.startswith("Wait for ")]
    assert len(waits) == 4  # 4 s timeout, 1 s polls
    assert actions_taken(aws, result.arn) == ["rds:startDBInstance"]


def test_a_start_that_ends_incompatible_is_refused(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"i-{unique}")
    target = composition(f"c-{unique}", [created.item])
    _stopped(aws, created, unique)

    with lifecycle.ends_in(f"i-{unique}", "incompatible-parameters"):
        result = run(aws, target, Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceUnusable"
    assert "cannot be started from its current state" in result.cause
    assert "incompatible-parameters" in result.cause
    statuses = [p["status"] for p in polls(aws, result.arn, subject_of(created.item))]
    assert "starting" in statuses and statuses[-1] == "incompatible-parameters"


def test_an_instance_that_terminates_while_starting_is_refused(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.ec2_instance(aws_env, f"e-{unique}")
    target = composition(f"c-{unique}", [created.item])
    _stopped(aws, created, unique)

    with lifecycle.ends_in(created.item["params"]["id"], "terminated"):
        result = run(aws, target, Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceUnusable"
    assert "terminated" in result.cause
    assert created.read() == "terminated"


def test_ecs_tasks_that_keep_failing_time_out(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = moto_resources.ecs_service(aws_env, f"f-{unique}")
    item = {**created.item, "ready_timeout_seconds": 3}
    target = composition(f"c-{unique}", [item])
    _stopped(aws, created, unique)

    with lifecycle.ends_in(f"f-{unique}/api", "failed"):
        result = run(aws, target, Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceNotReady"
    assert result.cause.startswith(f"ecs_service f-{unique}/api was not started within 3 s; ")
    assert '"running":[0]' in result.cause and '"desired":[2]' in result.cause


def test_a_throttling_burst_is_retried(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = moto_resources.efs_file_system(aws_env, f"r-{unique}")

    with lifecycle.throttled("efs", "DescribeFileSystems", 3):
        result = run(aws, composition(f"c-{unique}", [created.item]), Action.STOP)
        assert lifecycle.throttles_left("efs", "DescribeFileSystems") == 0

    assert result.status == "SUCCEEDED", result.cause
    assert task_errors(aws, result.arn, "Efs.") == ["Efs.ThrottlingException"] * 3
    assert created.read() == "1"


def test_throttling_of_a_service_without_a_throttling_error_is_retried_briefly(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"r-{unique}")

    with lifecycle.throttled("rds", "DescribeDBInstances", 2):
        result = run(aws, composition(f"c-{unique}", [created.item]), Action.STOP)

    # RDS models no throttling error: it arrives as Rds.RdsException, retried twice.
    assert result.status == "SUCCEEDED", result.cause
    assert task_errors(aws, result.arn, "Rds.") == ["Rds.RdsException"] * 2
    assert created.read() == "stopped"
