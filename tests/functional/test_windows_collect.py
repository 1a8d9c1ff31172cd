"""Collecting windows from AWS: RDS and Redshift against moto, AWS Backup through a stub.

moto 5.2 has no backup selections, so the AWS Backup calls go to a real boto3
client wrapped in botocore's Stubber (responses checked against the service model);
everything else is moto in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from scheduler_core.aws import Aws
from scheduler_core.config import Composition, parse_config
from scheduler_core.windows import (
    BackupPlans,
    ResourceWindow,
    WindowKind,
    analyse_windows,
    collect_windows,
    read_backup_plans,
)

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
PLAN_ID = "plan-1"


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws()


@pytest.fixture
def databases(aws: Aws) -> None:
    rds = aws("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="shop-aurora",
        Engine="aurora-postgresql",
        MasterUsername="envctl",
        MasterUserPassword="password-123",
        PreferredMaintenanceWindow="sun:03:00-sun:03:30",
        PreferredBackupWindow="23:50-00:20",
        Tags=[{"Key": "backup", "Value": "daily"}],
    )
    rds.create_db_instance(
        DBInstanceIdentifier="shop-reporting",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="envctl",
        MasterUserPassword="password-123",
        PreferredMaintenanceWindow="sat:23:45-sun:00:15",
        PreferredBackupWindow="02:00-02:30",
    )
    aws("redshift").create_cluster(
        ClusterIdentifier="warehouse",
        NodeType="ra3.xlplus",
        ClusterType="single-node",
        MasterUsername="envctl",
        MasterUserPassword="Password-123",
        PreferredMaintenanceWindow="mon:04:00-mon:04:30",
        Tags=[{"Key": "team", "Value": "data"}],
    )


def staging(*extra_items: str) -> Composition:
    items = "".join(f"      - {item}\n" for item in extra_items)
    text = (
        "compositions:\n"
        "  staging:\n"
        "    timezone: Europe/Amsterdam\n"
        '    start_resources_at: "0 8 ? * MON-FRI *"\n'
        '    stop_resources_at: "0 19 ? * MON-FRI *"\n'
        "    resources:\n"
        "      - {type: rds_cluster, params: {id: shop-aurora}}\n"
        "      - parallel:\n"
        "          - {type: rds_instance, params: {id: shop-reporting}}\n"
        "          - {type: redshift_cluster, params: {id: warehouse}}\n"
        "          - {type: ec2_instance, params: {id: i-0123456789abcdef0}}\n"
        f"{items}"
    )
    return parse_config(text, path=Path("compositions.yaml")).get("staging")


def summary(windows: list[ResourceWindow]) -> list[tuple[str, str, str, str]]:
    return [(w.resource_type, w.resource_id, str(w.kind), w.window) for w in windows]


RDS_AND_REDSHIFT = [
    ("rds_cluster", "shop-aurora", "maintenance", "sun:03:00-sun:03:30"),
    ("rds_cluster", "shop-aurora", "backup", "23:50-00:20"),
    ("rds_instance", "shop-reporting", "maintenance", "sat:23:45-sun:00:15"),
    ("rds_instance", "shop-reporting", "backup", "02:00-02:30"),
    ("redshift_cluster", "warehouse", "maintenance", "mon:04:00-mon:04:30"),
]


def stubbed_backup(
    responses: Callable[[Stubber], None],
) -> tuple[Any, Stubber]:
    client = boto3.client("backup", region_name=REGION)
    stubber = Stubber(client)
    responses(stubber)
    stubber.activate()
    return client, stubber


def with_backup(aws: Aws, backup: Any) -> Callable[[str], Any]:
    return lambda service: backup if service == "backup" else aws(service)


def one_plan(stubber: Stubber, selection: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "list_backup_plans",
        {"BackupPlansList": [{"BackupPlanId": PLAN_ID, "BackupPlanName": "nightly"}]},
        {},
    )
    stubber.add_response(
        "get_backup_plan",
        {"BackupPlan": {"BackupPlanName": "nightly", "Rules": rules}, "BackupPlanId": PLAN_ID},
        {"BackupPlanId": PLAN_ID},
    )
    stubber.add_response(
        "list_backup_selections",
        {"BackupSelectionsList": [{"SelectionId": "sel-1", "BackupPlanId": PLAN_ID}]},
        {"BackupPlanId": PLAN_ID},
    )
    stubber.add_response(
        "get_backup_selection",
        {
            "BackupSelection": {"SelectionName": "tagged", "IamRoleArn": "arn:role", **selection},
            "SelectionId": "sel-1",
            "BackupPlanId": PLAN_ID,
        },
        {"BackupPlanId": PLAN_ID, "SelectionId": "sel-1"},
    )


def rule(name: str, expression: str, **extra: Any) -> dict[str, Any]:
    return {
        "RuleName": name,
        "TargetBackupVaultName": "vault",
        "ScheduleExpression": expression,
        **extra,
    }


def test_rds_and_redshift_windows_are_read_in_item_order(aws: Aws, databases: None) -> None:
    windows = collect_windows(aws, staging())
    assert summary(windows) == RDS_AND_REDSHIFT  # moto has no backup plans: no aws_backup


def test_collected_windows_can_be_analysed(aws: Aws, databases: None) -> None:
    composition = staging()
    analyses = analyse_windows(
        composition, collect_windows(aws, composition), now=datetime(2026, 1, 5, tzinfo=UTC)
    )
    by_window = {analysis.window: analysis for analysis in analyses}
    assert by_window["sun:03:00-sun:03:30"].uncovered_occurrences == 52
    assert by_window["mon:04:00-mon:04:30"].as_json()["schedules"][0] == {
        "action": "start",
        "expression": "cron(45 3 ? * MON *)",
        "timezone": "UTC",
    }


def test_missing_resources_have_no_windows(aws: Aws) -> None:
    assert collect_windows(aws, staging()) == []


def test_aurora_member_instance_reports_the_cluster_backup_window(
    aws: Aws, databases: None
) -> None:
    aws("rds").create_db_instance(
        DBInstanceIdentifier="shop-aurora-1",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
        DBClusterIdentifier="shop-aurora",
    )
    windows = collect_windows(aws, staging("{type: rds_instance, params: {id: shop-aurora-1}}"))
    member = [w for w in windows if w.resource_id == "shop-aurora-1"]
    assert [(w.kind, w.window) for w in member][1] == (WindowKind.BACKUP, "23:50-00:20")


def test_backup_rules_of_selections_that_match_become_aws_backup_windows(
    aws: Aws, databases: None
) -> None:
    selection = {
        "Resources": [
            f"arn:aws:rds:{REGION}:{ACCOUNT}:db:shop-*",
            "arn:aws:redshift:*:*:cluster:warehouse",
        ],
        "ListOfTags": [
            {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}
        ],
    }
    rules = [
        rule(
            "daily",
            "cron(0 5 ? * * *)",
            ScheduleExpressionTimezone="Europe/Amsterdam",
            StartWindowMinutes=60,
        ),
        rule(
            "same-schedule-again",
            "cron(0 5 ? * * *)",
            ScheduleExpressionTimezone="Europe/Amsterdam",
            StartWindowMinutes=60,
        ),
        rule("default-window", "cron(30 1 ? * SUN *)"),
    ]
    backup, stubber = stubbed_backup(lambda stub: one_plan(stub, selection, rules))
    windows = collect_windows(with_backup(aws, backup), staging())
    stubber.assert_no_pending_responses()
    backup_rules = [
        "cron(0 5 ? * * *) Europe/Amsterdam, start within 60 min",
        "cron(30 1 ? * SUN *) UTC, start within 480 min",
    ]
    expected = [
        *RDS_AND_REDSHIFT[:2],
        *(("rds_cluster", "shop-aurora", "aws_backup", text) for text in backup_rules),
        *RDS_AND_REDSHIFT[2:4],
        *(("rds_instance", "shop-reporting", "aws_backup", text) for text in backup_rules),
        RDS_AND_REDSHIFT[4],
        *(("redshift_cluster", "warehouse", "aws_backup", text) for text in backup_rules),
    ]
    assert summary(windows) == expected


def test_selection_conditions_filter_by_tags(aws: Aws, databases: None) -> None:
    selection = {
        "Resources": ["*"],
        "Conditions": {
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "data"}]
        },
    }
    backup, _ = stubbed_backup(
        lambda stub: one_plan(stub, selection, [rule("r", "cron(0 3 * * ? *)")])
    )
    windows = collect_windows(with_backup(aws, backup), staging())
    assert [(w.resource_id, w.kind) for w in windows if w.kind is WindowKind.AWS_BACKUP] == [
        ("warehouse", WindowKind.AWS_BACKUP)
    ]


def test_unanalysable_backup_rule_becomes_a_problem_entry(aws: Aws, databases: None) -> None:
    selection = {"Resources": [f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:shop-aurora"]}
    backup, _ = stubbed_backup(
        lambda stub: one_plan(stub, selection, [rule("r", "rate(12 hours)")])
    )
    [entry] = [
        w
        for w in collect_windows(with_backup(aws, backup), staging())
        if w.kind is WindowKind.AWS_BACKUP
    ]
    assert entry.spec is None
    assert entry.problem is not None and "rate(12 hours)" in entry.problem


def test_access_denied_on_backup_keeps_other_windows_and_reports_the_gap(
    aws: Aws, databases: None, caplog: pytest.LogCaptureFixture
) -> None:
    def denied(stub: Stubber) -> None:
        stub.add_client_error("list_backup_plans", "AccessDeniedException", "not allowed", 403)

    backup, _ = stubbed_backup(denied)
    with caplog.at_level(logging.WARNING, logger="scheduler_core.windows.collect"):
        windows = collect_windows(with_backup(aws, backup), staging())
    assert summary([w for w in windows if w.kind is not WindowKind.AWS_BACKUP]) == RDS_AND_REDSHIFT
    gaps = [w for w in windows if w.kind is WindowKind.AWS_BACKUP]
    assert [w.resource_id for w in gaps] == ["shop-aurora", "shop-reporting", "warehouse"]
    assert all(w.spec is None and "backup:ListBackupPlans" in (w.problem or "") for w in gaps)
    assert "AccessDeniedException" in caplog.text


def test_other_backup_errors_propagate(aws: Aws, databases: None) -> None:
    def throttled(stub: Stubber) -> None:
        stub.add_client_error("list_backup_plans", "ThrottlingException", "slow down", 400)

    backup, _ = stubbed_backup(throttled)
    with pytest.raises(Exception, match="ThrottlingException"):
        collect_windows(with_backup(aws, backup), staging())


def test_backup_plans_read_once_can_be_shared(aws: Aws, databases: None) -> None:
    backup, stubber = stubbed_backup(lambda stub: None)  # any backup call would fail
    windows = collect_windows(with_backup(aws, backup), staging(), backup_plans=BackupPlans())
    assert summary(windows) == RDS_AND_REDSHIFT
    stubber.assert_no_pending_responses()


def test_read_backup_plans_without_plans_is_empty(aws: Aws) -> None:
    assert read_backup_plans(aws) == BackupPlans()
