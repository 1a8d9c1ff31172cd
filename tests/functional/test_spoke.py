"""Compositions in another account and region, run for real in the emulator.

The spoke account's resources are created with credentials of a role assumed there
(moto keys them to the role's account); the hub keeps a resource of the same name,
which must never be touched. The emulator executes the machines' ``Credentials``:
it assumes the spoke role as the hub's state machine role would.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core import names
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.config import Composition
from scheduler_core.resources import Action
from scheduler_core.runtime import follow
from scheduler_core.runtime.executions import begin
from scheduler_core.settings import Settings
from tests.functional import moto_resources
from tests.functional.helpers import composition, ensure_deployed
from tests.functional.test_resource_kinds import KINDS

HUB = "123456789012"
REGION = "eu-west-1"
STATE_MACHINE_ROLE = f"arn:aws:iam::{HUB}:role/{names.STATE_MACHINE_ROLE}"


def new_account() -> str:
    """An account of its own per test: the tests share one emulator."""
    return str(random.randrange(2 * 10**11, 10**12))


class Spoke:
    """An emulator seen from another account and region: what a fixture needs of it."""

    def __init__(self, emulator: Emulator, account: str, region: str = REGION) -> None:
        self.emulator = emulator
        self.account = account
        self.region = region
        # The AMI cache of moto_resources is keyed by this.
        self.endpoint_url = f"{emulator.endpoint_url}#{account}/{region}"

    def client(self, service: str) -> Any:
        keys = self.emulator.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{self.account}:role/test-admin", RoleSessionName="test"
        )["Credentials"]
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.region,
            endpoint_url=self.emulator.endpoint_url,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )

    def create_role(
        self, name: str = names.SPOKE_ROLE, *, trusting: str = STATE_MACHINE_ROLE
    ) -> str:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": trusting}, "Action": "sts:AssumeRole"}
            ],
        }
        created = self.client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(policy)
        )
        return str(created["Role"]["Arn"])


def placed(name: str, items: list[Any], spoke: Spoke, **settings: Any) -> Composition:
    return composition(name, items, account=spoke.account, region=spoke.region, **settings)


def run(aws: Aws, target: Composition, action: Action) -> Any:
    ensure_deployed(aws, target)
    arn = begin(aws, Settings(), target, action)
    return follow(aws, arn, poll_seconds=0.1, timeout_seconds=120)


# Kinds whose ids AWS makes up (i-…, fs-…): the hub's resource has another id.
GENERATED_IDS = {"ec2_instance", "efs_file_system", "fsx_windows_file_system"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_in_a_spoke_runs_there_and_leaves_the_hub_alone(
    kind: str, aws_env: Emulator, aws: Aws, unique: str
) -> None:
    factory, running, stopped = KINDS[kind]
    spoke = Spoke(aws_env, new_account())
    spoke.create_role()
    there = factory(spoke, f"k-{unique}")
    here = factory(aws_env, f"k-{unique}")  # the same name in the hub account
    target = placed(f"s-{unique}", [there.item], spoke)
    if kind not in GENERATED_IDS:
        assert there.item == here.item  # the very same id in both accounts

    stop = run(aws, target, Action.STOP)
    assert stop.succeeded, stop.cause
    assert (there.read(), here.read()) == (stopped, running)

    start = run(aws, target, Action.START)
    assert start.succeeded, start.cause
    assert (there.read(), here.read()) == (running, running)
    # Executed in the spoke's region, every resource call as the spoke role.
    assert names.arn_region(start.arn) == REGION
    history = (
        aws.at(REGION)
        .client("stepfunctions")
        .get_execution_history(executionArn=start.arn, maxResults=1000)["events"]
    )
    role = f"arn:aws:iam::{spoke.account}:role/envctl-spoke"
    scheduled = [e["taskScheduledEventDetails"] for e in history if e["type"] == "TaskScheduled"]
    resource_calls = [
        d
        for d in scheduled
        if d["resourceType"]
        not in ("dynamodb", "aws-sdk:dynamodb", "aws-sdk:sfn", "aws-sdk:scheduler")
    ]
    assert resource_calls, scheduled
    assert all(d.get("taskCredentials") == {"roleArn": role} for d in resource_calls)


def _config(path: Path, name: str, body: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump({"compositions": {name: body}}))
    return str(path)


def test_the_cli_runs_a_spoke_composition_end_to_end(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spoke = Spoke(aws_env, new_account())
    spoke.create_role()
    there = moto_resources.rds_instance(spoke, f"db-{unique}")  # type: ignore[arg-type]
    here = moto_resources.rds_instance(aws_env, f"db-{unique}")
    name = f"cli-{unique}"
    config = _config(
        tmp_path / "c.yaml",
        name,
        {
            "account": spoke.account,
            "region": REGION,
            "timezone": "Europe/Dublin",
            "start_resources_at": "0 8 ? * MON-FRI *",
            "stop_resources_at": "0 19 ? * MON-FRI *",
            "resources": [there.item],
        },
    )

    assert main(["plan", "-c", config]) == 0
    planned = capsys.readouterr().out
    assert main(["apply", "-c", config]) == 0
    applied = capsys.readouterr().out
    assert main(["stop", name, "--wait", "-c", config]) == 0
    stopped = capsys.readouterr().out
    assert main(["status", name, "--json", "-c", config]) == 0
    status = json.loads(capsys.readouterr().out)
    assert main(["history", name, "-c", config]) == 0
    history = capsys.readouterr().out
    assert main(["schedule", name, "-c", config]) == 0
    schedule = capsys.readouterr().out
    assert main(["pause", name, "-c", config]) == 0
    assert main(["resume", name, "-c", config]) == 0
    capsys.readouterr()
    assert main(["start", name, "--wait", "--for", "2h", "-c", config]) == 0
    started = capsys.readouterr().out

    assert planned.splitlines()[0] == (
        f"{name}: resources in account {spoke.account}, {REGION} "
        f"through arn:aws:iam::{spoke.account}:role/envctl-spoke"
    )
    assert f"state machine envctl-{name}-start in {REGION}" in applied
    assert f"arn:aws:states:{REGION}:{HUB}:execution:envctl-{name}-stop:" in stopped
    assert (status["state"], status["account"], status["region"]) == (
        "stopped",
        spoke.account,
        REGION,
    )
    assert [r["state"] for r in status["resources"]] == ["stopped"]
    assert "stop" in history
    assert "schedule: active" in schedule and "not deployed" not in schedule
    assert f"  ✓ rds_instance db-{unique} started (" in started
    assert (there.read(), here.read()) == ("available", "available")
    # The schedules and the auto-stop live in the composition's region.
    scheduler = aws.at(REGION).client("scheduler") if (aws := Aws()) else None
    assert scheduler is not None
    group = names.schedule_group(name)
    listed = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert {"start", "stop", names.AUTO_STOP} <= listed


def test_a_resource_only_in_the_hub_is_missing_naming_where_it_was_looked_for(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    spoke = Spoke(aws_env, new_account())
    here = moto_resources.rds_instance(aws_env, f"db-{unique}")
    target = placed(f"m-{unique}", [here.item], spoke)

    (resource,) = Runtime(aws).status(target).resources

    assert resource.state == "missing"
    assert resource.detail.endswith(f"(looked in account {spoke.account}, {REGION})")


def test_a_spoke_role_that_cannot_be_assumed_fails_the_run_naming_role_and_account(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    spoke = Spoke(aws_env, new_account())
    spoke.create_role(trusting=f"arn:aws:iam::{HUB}:role/someone-else")
    there = moto_resources.rds_instance(spoke, f"db-{unique}")  # type: ignore[arg-type]
    target = placed(f"r-{unique}", [there.item], spoke)

    stop = run(aws, target, Action.STOP)

    assert not stop.succeeded
    assert f"arn:aws:iam::{spoke.account}:role/envctl-spoke" in (stop.cause or "")
    assert f"account {spoke.account}" in (stop.cause or "")
    assert there.read() == "available"


def Runtime(aws: Aws) -> Any:
    from scheduler_core.runtime.operations import Runtime as Built

    return Built(aws, Settings())


def test_an_auto_start_event_finds_only_the_composition_of_its_account_and_region() -> None:
    from bot.restop import AutoStart, compositions_with
    from scheduler_core.config import Config

    spoke = "210987654321"
    item = {"type": "rds_instance", "params": {"id": "orders"}}
    config = Config(
        path=Path("c.yaml"),
        compositions={
            c.name: c
            for c in (
                composition("hub", [item]),
                composition("spoke", [item], account=spoke),
                composition("spoke-eu", [item], account=spoke, region=REGION),
                composition("hub-eu", [item], region=REGION),
            )
        },
    )

    def found(account: str | None, region: str | None) -> list[str]:
        started = AutoStart(
            resource_types=("rds_instance",), identifier="orders", account=account, region=region
        )
        matched = compositions_with(config, started, home_account=HUB, home_region="us-east-1")
        return [c.name for c in matched]

    assert found(HUB, "us-east-1") == ["hub"]
    assert found(None, None) == ["hub"]
    assert found(spoke, "us-east-1") == ["spoke"]
    assert found(spoke, REGION) == ["spoke-eu"]
    assert found(HUB, REGION) == ["hub-eu"]
    assert found("999999999999", "us-east-1") == []


def test_a_forwarded_auto_start_in_a_spoke_is_stopped_again_there(
    aws_env: Emulator, aws: Aws, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import restop

    spoke = Spoke(aws_env, new_account())
    spoke.create_role()
    there = moto_resources.rds_instance(spoke, f"db-{unique}")  # type: ignore[arg-type]
    here = moto_resources.rds_instance(aws_env, f"db-{unique}")
    body = {"account": spoke.account, "region": REGION, "resources": [there.item]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"compositions": {f"r-{unique}": body}}))
    monkeypatch.setenv("ENVCTL_CONFIG", str(path))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    target = placed(f"r-{unique}", [there.item], spoke)
    assert run(aws, target, Action.STOP).succeeded
    spoke.client("rds").start_db_instance(DBInstanceIdentifier=f"db-{unique}")  # "RDS" did
    event = {
        "source": "aws.rds",
        "detail-type": "RDS DB Instance Event",
        "account": spoke.account,
        "region": REGION,
        "detail": {"EventID": "RDS-EVENT-0154", "SourceIdentifier": f"db-{unique}"},
    }

    result = restop.handler(event, None)

    assert result["compositions"] == {target.name: "stopped"}, result
    assert follow(aws, result["execution_arn"], poll_seconds=0.1, timeout_seconds=60).succeeded
    assert (there.read(), here.read()) == ("stopped", "available")


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_a_deployment_in_another_region_works_end_to_end(
    region: str,
    aws_env: Emulator,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a user in Europe or Sydney does first: nothing names a region but theirs."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.delenv("AWS_REGION", raising=False)
    here = Spoke(aws_env, HUB, region)
    database = moto_resources.rds_instance(here, f"db-{unique}")  # type: ignore[arg-type]
    name = f"reg-{unique}"
    config = _config(
        tmp_path / "c.yaml",
        name,
        {
            "timezone": "Australia/Sydney",
            "start_resources_at": "0 8 ? * MON-FRI *",
            "stop_resources_at": "0 19 ? * MON-FRI *",
            "resources": [database.item],
        },
    )

    def envctl(*argv: str) -> str:
        code = main([*argv, "-c", config])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    envctl("apply")
    stopped = envctl("stop", name, "--wait")
    status = json.loads(envctl("status", name, "--json"))
    schedule = envctl("schedule", name)
    envctl("pause", name)
    envctl("resume", name)
    started = envctl("start", name, "--wait", "--for", "1h")
    history = envctl("history", name)

    assert f"arn:aws:states:{region}:{HUB}:execution:envctl-{name}-stop:" in stopped
    assert status["state"] == "stopped"
    assert "start" in schedule and "stop" in schedule
    assert f"  ✓ rds_instance db-{unique} started (" in started
    assert database.read() == "available"
    assert [line.split()[0] for line in history.splitlines() if line.strip()]
    for what in ("stop", "pause", "resume", "start"):
        assert what in history


def test_apply_creates_the_table_in_a_composition_region_once(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    from scheduler_core.config import Config
    from scheduler_core.reconcile import apply_plan, make_plan

    table = f"envctl-t-{unique}"  # not one the emulator creates by itself
    settings = Settings(table_name=table)
    target = composition(
        f"t-{unique}", [{"type": "wait", "params": {"seconds": 1}}], region="ap-southeast-2"
    )
    config = Config(path=Path("c.yaml"), compositions={target.name: target})
    dynamodb = aws.at("ap-southeast-2").client("dynamodb")

    first = make_plan(aws, settings, config)
    apply_plan(aws, first)
    second = make_plan(aws, settings, config)

    created = [c.describe() for c in first.changes if c.kind == "table"]
    assert created == [f"+ table {table} in ap-southeast-2"]
    assert [c for c in second.changes if c.kind == "table"] == []
    assert dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert table not in aws.client("dynamodb").list_tables()["TableNames"]  # the hub has none


def test_apply_forwards_the_end_of_runs_in_a_composition_region_to_the_home_bus(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    from scheduler_core.config import Config
    from scheduler_core.reconcile import apply_plan, make_plan
    from scheduler_core.reconcile.forwarding import HEADS_UP_RULE, RULE

    region = "sa-east-1"  # no other test puts a composition there
    target = composition(f"f-{unique}", [{"type": "wait", "params": {"seconds": 1}}], region=region)
    config = Config(path=Path("c.yaml"), compositions={target.name: target})
    events = aws.at(region).client("events")
    settings = Settings(events_role_arn=f"arn:aws:iam::{HUB}:role/forwarding-{unique}")

    first = make_plan(aws, settings, config)
    apply_plan(aws, first)
    second = make_plan(aws, settings, config)

    assert [c.describe() for c in first.changes if c.kind == "event rule"] == [
        f"+ event rule {RULE} in {region}",
        f"+ event rule {HEADS_UP_RULE} in {region}",
    ]
    assert [c for c in second.changes if c.kind == "event rule"] == []
    # Heads-up events of the schedules there go to the home bus as well.
    assert json.loads(events.describe_rule(Name=HEADS_UP_RULE)["EventPattern"]) == {
        "source": ["envctl"],
        "detail-type": ["envctl heads-up"],
    }
    (heads_up_target,) = events.list_targets_by_rule(Rule=HEADS_UP_RULE)["Targets"]
    assert heads_up_target["Arn"] == f"arn:aws:events:{aws.region}:{HUB}:event-bus/default"
    pattern = json.loads(events.describe_rule(Name=RULE)["EventPattern"])
    assert pattern["detail"]["stateMachineArn"] == [
        {"prefix": f"arn:aws:states:{region}:{HUB}:stateMachine:envctl-"}
    ]
    (forward,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert (forward["Arn"], forward["RoleArn"]) == (
        f"arn:aws:events:us-east-1:{HUB}:event-bus/default",
        settings.events_role_arn,
    )
    home_rules = {r["Name"] for r in aws.client("events").list_rules()["Rules"]}
    assert RULE not in home_rules  # the home region's own bus needs none
