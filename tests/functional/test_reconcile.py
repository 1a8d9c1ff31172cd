"""plan/apply against the emulator: create, update, no-op, prune, foreign objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.cli.main import main
from scheduler_core.config import Config, parse_config
from scheduler_core.reconcile import apply_plan, make_plan
from scheduler_core.settings import Settings
from tests.functional.helpers import schedule_group_names, state_machine_names

# Query: the holiday rows of each composition are read to compare them with its calendars.
READ_PREFIXES = ("Describe", "Get", "List", "Query")


def recording_aws() -> tuple[Aws, list[str]]:
    """An Aws whose clients record every operation they call."""
    session = boto3.Session()
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    return Aws(session), calls


def config_of(compositions: dict[str, Any]) -> Config:
    return parse_config(yaml.safe_dump({"compositions": compositions}), path=Path("c.yaml"))


def office_hours(unique: str, **overrides: Any) -> dict[str, Any]:
    return {
        "timezone": "Europe/Amsterdam",
        "start_resources_at": "0 8 ? * MON-FRI *",
        "stop_resources_at": "0 19 ? * MON-FRI *",
        "resources": [{"type": "ec2_instance", "params": {"id": f"i-{unique}"}}],
        **overrides,
    }


def schedule(em: Emulator, group: str, name: str) -> dict[str, Any]:
    return em.client("scheduler").get_schedule(GroupName=group, Name=name)


def apply(config: Config, settings: Settings | None = None, *, prune: bool = False) -> list[str]:
    aws, _ = recording_aws()
    plan = make_plan(aws, settings or Settings(), config, prune=prune)
    apply_plan(aws, plan)
    return [change.describe() for change in plan.changes]


def test_apply_creates_machines_group_and_timezone_schedules(
    aws_env: Emulator, unique: str
) -> None:
    name = f"r{unique}"
    changes = apply(config_of({name: office_hours(unique)}))

    assert changes == [
        f"+ state machine envctl-{name}-start",
        f"+ state machine envctl-{name}-stop",
        f"+ schedule group envctl-{name}",
        f"+ schedule envctl-{name}/start "
        "(expression: (none) → cron(0 8 ? * MON-FRI *) Europe/Amsterdam)",
        f"+ schedule envctl-{name}/stop "
        "(expression: (none) → cron(0 19 ? * MON-FRI *) Europe/Amsterdam)",
    ]
    start = schedule(aws_env, f"envctl-{name}", "start")
    assert start["ScheduleExpression"] == "cron(0 8 ? * MON-FRI *)"
    assert start["ScheduleExpressionTimezone"] == "Europe/Amsterdam"
    assert start["Target"]["Arn"].endswith(f":stateMachine:envctl-{name}-start")
    assert start["Target"]["RoleArn"].endswith(":role/envctl-scheduler")
    # A start says when it was due (holidays); EventBridge Scheduler fills the time in.
    assert json.loads(start["Target"]["Input"]) == {
        "trigger": "schedule",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    group_tags = aws_env.client("scheduler").list_tags_for_resource(
        ResourceArn=aws_env.client("scheduler").get_schedule_group(Name=f"envctl-{name}")["Arn"]
    )["Tags"]
    assert {"Key": "envctl:managed", "Value": "true"} in group_tags


def test_second_apply_makes_no_write_calls(aws_env: Emulator, unique: str) -> None:
    config = config_of({f"n{unique}": office_hours(unique)})
    apply(config)
    aws, calls = recording_aws()

    plan = make_plan(aws, Settings(), config)
    apply_plan(aws, plan)

    assert plan.empty
    assert calls and all(call.startswith(READ_PREFIXES) for call in calls), calls


def test_on_demand_composition_gets_machines_and_group_but_no_schedules(
    aws_env: Emulator, unique: str
) -> None:
    name = f"d{unique}"
    body = office_hours(unique, start_resources_at="on-demand", stop_resources_at="on-demand")

    changes = apply(config_of({name: body}))

    assert [c for c in changes if c.startswith(f"+ schedule envctl-{name}/")] == []
    assert f"+ schedule group envctl-{name}" in changes


@pytest.mark.parametrize(
    ("change", "expected_fields"),
    [
        ({"start_resources_at": "30 7 ? * MON-FRI *"}, ["expression"]),
        ({"timezone": "America/New_York"}, ["timezone"]),
    ],
)
def test_changing_cron_or_timezone_updates_only_those_schedules(
    aws_env: Emulator, unique: str, change: dict[str, Any], expected_fields: list[str]
) -> None:
    name = f"u{unique}"
    apply(config_of({name: office_hours(unique)}))

    changes = apply(config_of({name: office_hours(unique, **change)}))

    updated = [c for c in changes if c.startswith("~ schedule")]
    assert updated and all(any(f"{field}:" in c for field in expected_fields) for c in updated)
    assert not [c for c in changes if c.startswith(("+", "-"))]
    live = schedule(aws_env, f"envctl-{name}", "start")
    expected = {**office_hours(unique), **change}
    assert live["ScheduleExpression"] == f"cron({expected['start_resources_at']})"
    assert live["ScheduleExpressionTimezone"] == expected["timezone"]


def test_adding_a_resource_updates_both_state_machines(aws_env: Emulator, unique: str) -> None:
    name = f"a{unique}"
    apply(config_of({name: office_hours(unique)}))
    more = office_hours(unique)
    more["resources"] = [
        *more["resources"],
        {"type": "rds_instance", "params": {"id": f"db-{unique}"}},
    ]

    changes = apply(config_of({name: more}))

    assert changes == [
        f"~ state machine envctl-{name}-start (definition: (differs) → (generated))",
        f"~ state machine envctl-{name}-stop (definition: (differs) → (generated))",
    ]
    definition = aws_env.client("stepfunctions").describe_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{name}-start"
    )["definition"]
    assert f"db-{unique}" in definition


def test_apply_keeps_a_paused_schedule_paused(aws_env: Emulator, unique: str) -> None:
    name = f"p{unique}"
    config = config_of({name: office_hours(unique)})
    apply(config)
    scheduler = aws_env.client("scheduler")
    live = schedule(aws_env, f"envctl-{name}", "start")
    scheduler.update_schedule(
        GroupName=f"envctl-{name}",
        Name="start",
        ScheduleExpression=live["ScheduleExpression"],
        ScheduleExpressionTimezone=live["ScheduleExpressionTimezone"],
        FlexibleTimeWindow=live["FlexibleTimeWindow"],
        Target=live["Target"],
        Description=live["Description"],
        State="DISABLED",
    )

    assert apply(config) == []
    assert schedule(aws_env, f"envctl-{name}", "start")["State"] == "DISABLED"


def test_apply_of_a_changed_cron_keeps_a_paused_composition_paused(
    aws_env: Emulator, unique: str
) -> None:
    from scheduler_core.runtime.operations import Actor, Runtime

    name = f"q{unique}"
    apply(config_of({name: office_hours(unique)}))
    Runtime(Aws(), Settings()).set_paused(
        config_of({name: office_hours(unique)}).get(name), True, actor=Actor(who="t", via="cli")
    )

    changed = apply(config_of({name: office_hours(unique, start_resources_at="0 9 ? * MON-FRI *")}))

    assert changed  # the start schedule was updated...
    start = schedule(aws_env, f"envctl-{name}", "start")
    assert start["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert start["State"] == "DISABLED"  # ...and is still paused
    assert schedule(aws_env, f"envctl-{name}", "stop")["State"] == "DISABLED"


def test_prune_deletes_only_what_envctl_created_for_removed_compositions(
    aws_env: Emulator, unique: str
) -> None:
    keep, gone = f"k{unique}", f"g{unique}"
    apply(config_of({keep: office_hours(unique), gone: office_hours(unique)}))
    scheduler, sfn = aws_env.client("scheduler"), aws_env.client("stepfunctions")
    # Foreign objects: an untagged look-alike group, a foreign schedule in envctl's
    # group, and a foreign state machine with an envctl-like name.
    scheduler.create_schedule_group(Name=f"envctl-foreign{unique}")
    foreign_target = {
        "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
        "RoleArn": "arn:aws:iam::123456789012:role/x",
    }
    for group in (f"envctl-foreign{unique}", f"envctl-{gone}"):
        scheduler.create_schedule(
            GroupName=group,
            Name="theirs",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=foreign_target,
        )
    sfn.create_state_machine(
        name=f"envctl-{gone}-custom",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )

    without_prune = apply(config_of({keep: office_hours(unique)}))
    pruned = apply(config_of({keep: office_hours(unique)}), prune=True)

    assert without_prune == []
    # Tests share one emulator: prune also removes other tests' compositions.
    assert [change for change in pruned if gone in change] == [
        f"- schedule envctl-{gone}/start",
        f"- schedule envctl-{gone}/stop",
        f"- state machine envctl-{gone}-start",
        f"- state machine envctl-{gone}-stop",
    ]
    groups = schedule_group_names(scheduler)
    assert {f"envctl-{keep}", f"envctl-{gone}", f"envctl-foreign{unique}"} <= groups
    assert [
        s["Name"] for s in scheduler.list_schedules(GroupName=f"envctl-{gone}")["Schedules"]
    ] == ["theirs"]
    machines = state_machine_names(sfn)
    assert f"envctl-{gone}-custom" in machines
    assert f"envctl-{gone}-start" not in machines and f"envctl-{keep}-start" in machines


def test_prune_removes_the_group_when_only_envctl_schedules_were_in_it(
    aws_env: Emulator, unique: str
) -> None:
    keep, gone = f"k{unique}", f"x{unique}"
    apply(config_of({keep: office_hours(unique), gone: office_hours(unique)}))

    pruned = apply(config_of({keep: office_hours(unique)}), prune=True)

    assert f"- schedule group envctl-{gone}" in pruned
    assert not [change for change in pruned if keep in change]
    groups = schedule_group_names(aws_env.client("scheduler"))
    assert f"envctl-{gone}" not in groups


def test_role_arns_come_from_settings(aws_env: Emulator, unique: str) -> None:
    name = f"s{unique}"
    settings = Settings(
        state_machine_role_arn="arn:aws:iam::123456789012:role/custom-sfn",
        scheduler_role_arn="arn:aws:iam::123456789012:role/custom-scheduler",
    )

    apply(config_of({name: office_hours(unique)}), settings)

    assert schedule(aws_env, f"envctl-{name}", "stop")["Target"]["RoleArn"].endswith(
        "custom-scheduler"
    )
    machine = aws_env.client("stepfunctions").describe_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{name}-stop"
    )
    assert machine["roleArn"].endswith("custom-sfn")


def test_plan_json_and_cli_apply_report_changes(
    aws_env: Emulator, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"j{unique}"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"compositions": {name: office_hours(unique)}}))

    assert main(["plan", "--json", "-c", str(path)]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert main(["apply", "-c", str(path)]) == 0
    applied = capsys.readouterr().out
    assert main(["apply", "-c", str(path)]) == 0
    again = capsys.readouterr().out

    assert {(c["action"], c["type"], c["name"]) for c in planned["changes"]} == {
        ("create", "state_machine", f"envctl-{name}-start"),
        ("create", "state_machine", f"envctl-{name}-stop"),
        ("create", "schedule_group", f"envctl-{name}"),
        ("create", "schedule", f"envctl-{name}/start"),
        ("create", "schedule", f"envctl-{name}/stop"),
    }
    assert "Apply complete: 5 created, 0 updated, 0 deleted." in applied
    assert again == "No changes: AWS already matches the config.\n"


def test_prune_leaves_other_deployments_alone(aws_env: Emulator, unique: str) -> None:
    ours, theirs = f"o{unique}", f"t{unique}"
    apply(config_of({ours: office_hours(unique)}), Settings(deployment=f"a{unique}"))
    apply(config_of({theirs: office_hours(unique)}), Settings(deployment=f"b{unique}"))

    pruned = apply(
        config_of({ours: office_hours(unique)}), Settings(deployment=f"a{unique}"), prune=True
    )

    assert not [change for change in pruned if theirs in change]
    sfn = aws_env.client("stepfunctions")
    assert {f"envctl-{theirs}-start", f"envctl-{ours}-start"} <= state_machine_names(sfn)
    tags = sfn.list_tags_for_resource(
        resourceArn=f"arn:aws:states:us-east-1:123456789012:stateMachine:envctl-{theirs}-start"
    )["tags"]
    assert {"key": "envctl:deployment", "value": f"b{unique}"} in tags
