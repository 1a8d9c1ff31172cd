"""The emulator across regions and accounts: task Credentials, per-region table, --region.

Real HTTP against the shared emulator. moto keys the temporary credentials of
``sts.assume_role`` to the account in the role's ARN, so a client built from them acts
in that account; the spoke account's resources are created that way.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.emulator import credentials
from infra.emulator.patching import ORIGINAL_PREFIX
from infra.emulator.server import REGION, Emulator, free_port

HUB = "123456789012"
SPOKE = "210987654321"
STATE_MACHINE_ROLE = f"arn:aws:iam::{HUB}:role/envctl-state-machine"


def account_client(emulator: Emulator, service: str, account: str, region: str = REGION) -> Any:
    """A client acting in ``account``: credentials of a role assumed there."""
    keys = emulator.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-admin", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def regional_client(emulator: Emulator, service: str, region: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def trust(*principals: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": list(principals)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def create_database(rds: Any, identifier: str) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="test-password-1",
    )


def status(rds: Any, identifier: str) -> str:
    return str(
        rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
            "DBInstanceStatus"
        ]
    )


def stop_definition(identifier: str, role_arn: str | None = None) -> str:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:rds:stopDBInstance",
        "Parameters": {"DbInstanceIdentifier": identifier},
        "End": True,
    }
    if role_arn is not None:
        task["Credentials"] = {"RoleArn": role_arn}
    return json.dumps({"StartAt": "Stop", "States": {"Stop": task}})


def execute(sfn: Any, name: str, definition: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create a state machine, run it to the end; its DescribeExecution and history."""
    machine = sfn.create_state_machine(name=name, definition=definition, roleArn=STATE_MACHINE_ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    deadline = time.monotonic() + 30
    described = sfn.describe_execution(executionArn=execution)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
        described = sfn.describe_execution(executionArn=execution)
    events = sfn.get_execution_history(executionArn=execution)["events"]
    return described, events


def task_failure(events: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [event["taskFailedEventDetails"] for event in events if event["type"] == "TaskFailed"]
    assert len(failed) == 1, [event["type"] for event in events]
    return dict(failed[0])


def test_task_credentials_act_in_the_roles_account(aws_env: Emulator, unique: str) -> None:
    identifier = f"shared-db-{unique}"
    spoke_role = f"envctl-spoke-{unique}"
    spoke_iam = account_client(aws_env, "iam", SPOKE)
    role_arn = spoke_iam.create_role(
        RoleName=spoke_role, AssumeRolePolicyDocument=trust(STATE_MACHINE_ROLE)
    )["Role"]["Arn"]
    assert role_arn == f"arn:aws:iam::{SPOKE}:role/{spoke_role}"
    spoke_rds, hub_rds = account_client(aws_env, "rds", SPOKE), aws_env.client("rds")
    create_database(spoke_rds, identifier)
    create_database(hub_rds, identifier)

    described, events = execute(
        aws_env.client("stepfunctions"), f"cross-{unique}", stop_definition(identifier, role_arn)
    )

    assert described["status"] == "SUCCEEDED", events
    scheduled = next(event for event in events if event["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["taskCredentials"] == {"roleArn": role_arn}
    assert status(spoke_rds, identifier) in {"stopping", "stopped"}
    assert status(hub_rds, identifier) == "available"


def test_the_account_root_as_principal_is_trusted(aws_env: Emulator, unique: str) -> None:
    identifier = f"root-db-{unique}"
    spoke_iam = account_client(aws_env, "iam", SPOKE)
    role_arn = spoke_iam.create_role(
        RoleName=f"envctl-root-{unique}", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{HUB}:root")
    )["Role"]["Arn"]
    spoke_rds = account_client(aws_env, "rds", SPOKE)
    create_database(spoke_rds, identifier)

    described, events = execute(
        aws_env.client("stepfunctions"), f"root-{unique}", stop_definition(identifier, role_arn)
    )

    assert described["status"] == "SUCCEEDED", events
    assert status(spoke_rds, identifier) in {"stopping", "stopped"}


def test_a_role_missing_in_its_account_fails_the_task(aws_env: Emulator, unique: str) -> None:
    role_arn = f"arn:aws:iam::{SPOKE}:role/envctl-absent-{unique}"
    identifier = f"absent-db-{unique}"
    create_database(account_client(aws_env, "rds", SPOKE), identifier)

    described, events = execute(
        aws_env.client("stepfunctions"), f"absent-{unique}", stop_definition(identifier, role_arn)
    )

    assert described["status"] == "FAILED"
    failure = task_failure(events)
    assert failure["error"] == credentials.ERROR == "States.TaskFailed"
    assert role_arn in failure["cause"] and f"account {SPOKE}" in failure["cause"]
    assert "does not exist" in failure["cause"]
    ended = next(event for event in events if event["type"] == "ExecutionFailed")
    assert ended["executionFailedEventDetails"]["error"] == "States.TaskFailed"
    assert role_arn in ended["executionFailedEventDetails"]["cause"]
    assert status(account_client(aws_env, "rds", SPOKE), identifier) == "available"


def test_a_role_trusting_another_principal_fails_the_task(aws_env: Emulator, unique: str) -> None:
    identifier = f"distrust-db-{unique}"
    spoke_iam = account_client(aws_env, "iam", SPOKE)
    role_arn = spoke_iam.create_role(
        RoleName=f"envctl-distrust-{unique}",
        AssumeRolePolicyDocument=trust("arn:aws:iam::111122223333:role/someone-else"),
    )["Role"]["Arn"]
    spoke_rds = account_client(aws_env, "rds", SPOKE)
    create_database(spoke_rds, identifier)

    described, events = execute(
        aws_env.client("stepfunctions"), f"distrust-{unique}", stop_definition(identifier, role_arn)
    )

    assert described["status"] == "FAILED"
    failure = task_failure(events)
    assert failure["error"] == "States.TaskFailed"
    assert role_arn in failure["cause"] and f"account {SPOKE}" in failure["cause"]
    assert STATE_MACHINE_ROLE in failure["cause"]
    assert status(spoke_rds, identifier) == "available"


def test_a_catch_on_task_failed_sees_an_unassumable_role(aws_env: Emulator, unique: str) -> None:
    role_arn = f"arn:aws:iam::{SPOKE}:role/envctl-absent-{unique}"
    definition = json.loads(stop_definition(f"caught-{unique}", role_arn))
    definition["States"]["Stop"]["Catch"] = [
        {"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}
    ]
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}

    described, events = execute(
        aws_env.client("stepfunctions"), f"caught-{unique}", json.dumps(definition)
    )

    assert described["status"] == "SUCCEEDED", events
    assert json.loads(described["output"])["Error"] == "States.TaskFailed"


def test_a_state_machine_runs_its_tasks_in_its_own_region(aws_env: Emulator, unique: str) -> None:
    identifier = f"regional-db-{unique}"
    europe, home = regional_client(aws_env, "rds", "eu-west-1"), aws_env.client("rds")
    create_database(europe, identifier)
    create_database(home, identifier)
    sfn = regional_client(aws_env, "stepfunctions", "eu-west-1")

    described, events = execute(sfn, f"regional-{unique}", stop_definition(identifier))

    assert described["stateMachineArn"].startswith("arn:aws:states:eu-west-1:")
    assert described["status"] == "SUCCEEDED", events
    scheduled = next(event for event in events if event["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["region"] == "eu-west-1"
    assert status(europe, identifier) in {"stopping", "stopped"}
    assert status(home, identifier) == "available"


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_the_envctl_table_exists_in_any_region_on_first_use(
    aws_env: Emulator, unique: str, region: str
) -> None:
    dynamodb = regional_client(aws_env, "dynamodb", region)
    key = {"pk": {"S": f"test#{unique}"}, "sk": {"S": region}}

    dynamodb.put_item(TableName=aws_env.table_name, Item={**key, "value": {"S": "here"}})

    item = dynamodb.get_item(TableName=aws_env.table_name, Key=key)["Item"]
    assert item["value"] == {"S": "here"}
    table = dynamodb.describe_table(TableName=aws_env.table_name)["Table"]
    assert f":{region}:{HUB}:" in table["TableArn"]
    assert dynamodb.describe_time_to_live(TableName=aws_env.table_name)[
        "TimeToLiveDescription"
    ] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    with pytest.raises(ClientError) as missing:
        dynamodb.put_item(TableName="envctl-missing", Item=key)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "envctl-missing" not in dynamodb.list_tables()["TableNames"]


def test_the_envctl_table_is_not_created_in_other_accounts(aws_env: Emulator) -> None:
    spoke = account_client(aws_env, "dynamodb", SPOKE, "eu-west-1")

    assert aws_env.table_name not in spoke.list_tables()["TableNames"]


def test_the_region_follows_the_environment_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert Emulator().environment()["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert Emulator(region="ap-south-1").environment()["AWS_DEFAULT_REGION"] == "ap-south-1"
    assert Emulator(region="ap-south-1").client("sts").meta.region_name == "ap-south-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    assert Emulator().region_name == "sa-east-1"
    monkeypatch.delenv("AWS_REGION")
    assert Emulator().region_name == REGION == "us-east-1"


def test_local_prints_and_exports_the_region(
    aws_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.emulator.cli import run_local

    stop = threading.Event()
    stop.set()

    assert run_local(port=free_port(), region="eu-west-1", stop=stop) == 0

    out = capsys.readouterr().out
    assert "Region: eu-west-1 (the envctl table and roles are created there on first use" in out
    assert "export AWS_DEFAULT_REGION=eu-west-1" in out
    assert "export AWS_DEFAULT_REGION=us-east-1" not in out


def test_a_state_machine_in_another_account_acts_in_that_account(
    aws_env: Emulator, unique: str
) -> None:
    identifier = f"spoke-machine-db-{unique}"
    spoke_rds, hub_rds = account_client(aws_env, "rds", SPOKE), aws_env.client("rds")
    create_database(spoke_rds, identifier)
    create_database(hub_rds, identifier)
    sfn = account_client(aws_env, "stepfunctions", SPOKE)
    machine = sfn.create_state_machine(
        name=f"spoke-{unique}",
        definition=stop_definition(identifier),
        roleArn=f"arn:aws:iam::{SPOKE}:role/envctl-state-machine",
    )
    assert f":{SPOKE}:stateMachine:" in machine["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    assert status(spoke_rds, identifier) in {"stopping", "stopped"}
    assert status(hub_rds, identifier) == "available"


def test_every_interpreter_module_uses_the_credentials_aware_client(aws_env: Emulator) -> None:
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    original = getattr(boto_client, f"{ORIGINAL_PREFIX}boto_client_for")
    bound = {
        name: module.boto_client_for
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions") and hasattr(module, "boto_client_for")
    }
    assert (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk"
        in bound
    )
    assert all(function is not original for function in bound.values()), bound
