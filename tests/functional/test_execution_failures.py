"""Failures end the execution with a cause that names the resource."""

from __future__ import annotations

import pytest

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.resources import Action
from scheduler_core.runtime import ExecutionConflictError, begin, follow
from scheduler_core.settings import Settings
from tests.functional import moto_resources
from tests.functional.helpers import composition, ensure_deployed, entered_states, run


def test_deleted_rds_instance_fails_and_cause_names_it(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.rds_instance(aws_env, f"gone-{unique}")
    aws_env.client("rds").delete_db_instance(
        DBInstanceIdentifier=f"gone-{unique}", SkipFinalSnapshot=True
    )
    target = composition(f"c-{unique}", [created.item])

    result = run(aws, target, Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceFailed"
    assert result.cause.startswith(f"rds_instance gone-{unique}: ")
    assert "DBInstance" in result.cause and "not found" in result.cause


def test_missing_ecs_service_fails_as_missing(aws_env: Emulator, aws: Aws, unique: str) -> None:
    aws_env.client("ecs").create_cluster(clusterName=f"empty-{unique}")
    item = {
        "type": "ecs_service",
        "params": {"cluster_name": f"empty-{unique}", "name": "ghost", "desired": 1},
    }

    result = run(aws, composition(f"c-{unique}", [item]), Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceMissing"
    assert result.cause == f"ecs_service empty-{unique}/ghost does not exist"


def test_readiness_timeout_fails_with_last_observed_state(
    aws_env: Emulator, aws: Aws, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FSx throughput updates take a long while in AWS; make this one outlast the timeout.
    monkeypatch.setenv("ENVCTL_EMULATOR_FSX_UPDATE_SECONDS", "60")
    created = moto_resources.fsx_windows_file_system(aws_env, f"slow-{unique}")
    item = {**created.item, "ready_timeout_seconds": 2}

    result = run(aws, composition(f"c-{unique}", [item]), Action.STOP)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceNotReady"
    system_id = created.item["params"]["id"]
    assert result.cause.startswith(
        f"fsx_windows_file_system {system_id} was not stopped within 2 s; last observed: "
    )
    assert '"pending":["FILE_SYSTEM_UPDATE"]' in result.cause
    waits = [s for s in entered_states(aws, result.arn) if s.startswith("Wait for ")]
    assert len(waits) == 2  # 2 s timeout, 1 s polls
    assert created.read() == "64"  # the update is still pending


def test_terminated_instance_is_refused_without_waiting(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    created = moto_resources.ec2_instance(aws_env, f"t-{unique}")
    aws_env.client("ec2").terminate_instances(InstanceIds=[created.item["params"]["id"]])

    result = run(aws, composition(f"c-{unique}", [created.item]), Action.START)

    assert result.status == "FAILED"
    assert result.error == "envctl.ResourceUnusable"
    assert "cannot be started from its current state" in result.cause
    assert "terminated" in result.cause
    assert not [s for s in entered_states(aws, result.arn) if s.startswith("Wait for ")]


def test_failure_in_one_step_stops_the_steps_after_it(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    later = moto_resources.rds_cluster(aws_env, f"later-{unique}")
    missing = {"type": "rds_instance", "params": {"id": f"nope-{unique}"}}
    target = composition(f"c-{unique}", [later.item, missing])

    result = run(aws, target, Action.STOP)  # stop: nope first, then later

    assert result.status == "FAILED"
    assert f"nope-{unique}" in result.cause
    assert later.read() == "available"


def test_start_while_stop_is_running_is_refused(aws_env: Emulator, aws: Aws, unique: str) -> None:
    created = moto_resources.rds_cluster(aws_env, f"busy-{unique}")
    target = composition(f"c-{unique}", [created.item, {"type": "wait", "params": {"seconds": 3}}])
    ensure_deployed(aws, target)
    stopping = begin(aws, Settings(), target, Action.STOP)

    with pytest.raises(ExecutionConflictError) as refused:
        begin(aws, Settings(), target, Action.START)

    assert f"c-{unique} is still stopping" in str(refused.value)
    assert stopping in str(refused.value)
    assert follow(aws, stopping, poll_seconds=0.2, timeout_seconds=60).succeeded
