"""Functional tests for the emulator's AWS Backup selection patch.

The happy path runs through a real ``ThreadedMotoServer`` (how the emulator runs); the
other cases also exercise the in-process ``mock_aws()`` path. moto keeps one global state
per process, so server tests use unique plan names.
"""

from __future__ import annotations

import datetime
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.backup import urls as backup_urls
from moto.backup.models import BackupBackend
from moto.backup.responses import BackupResponse
from moto.server import ThreadedMotoServer

from infra.emulator import backup_selections

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
VOLUME = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/envctl"
EMPTY_CONDITIONS = {
    "StringEquals": [],
    "StringNotEquals": [],
    "StringLike": [],
    "StringNotLike": [],
}


@pytest.fixture(autouse=True)
def _installed() -> None:
    backup_selections.install()


@pytest.fixture
def endpoint() -> Iterator[str]:
    """Run a real moto server on a free local port and yield its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def in_process() -> Iterator[None]:
    with mock_aws():
        yield


def _backup(endpoint_url: str | None = None) -> Any:
    return boto3.client("backup", region_name=REGION, endpoint_url=endpoint_url)


def _plan(backup: Any) -> str:
    """Create a plan with one rule; names are unique because server state is shared."""
    response = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": f"envctl-{uuid.uuid4().hex[:8]}",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "Default",
                    "ScheduleExpression": "cron(0 5 ? * * *)",
                    "ScheduleExpressionTimezone": "Europe/Amsterdam",
                    "StartWindowMinutes": 60,
                }
            ],
        }
    )
    return response["BackupPlanId"]


def _select(backup: Any, plan_id: str, name: str, **members: Any) -> str:
    selection = {"SelectionName": name, "IamRoleArn": ROLE, **members}
    response = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)
    assert response["BackupPlanId"] == plan_id
    return response["SelectionId"]


def _error_code(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


def test_install_is_idempotent() -> None:
    wrapped = BackupBackend.delete_backup_plan
    routes = dict(backup_urls.url_paths)
    backup_selections.install()
    backup_selections.install()
    assert BackupBackend.delete_backup_plan is wrapped
    assert callable(getattr(BackupResponse, "create_backup_selection", None))
    assert backup_urls.url_paths == routes


def test_selections_round_trip_through_server(endpoint: str) -> None:
    backup = _backup(endpoint)
    plan_id = _plan(backup)
    (rule,) = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
    assert rule["ScheduleExpression"] == "cron(0 5 ? * * *)"
    assert rule["ScheduleExpressionTimezone"] == "Europe/Amsterdam"
    assert rule["StartWindowMinutes"] == 60

    tag = {"ConditionType": "STRINGEQUALS", "ConditionKey": "env", "ConditionValue": "dev"}
    like = {"ConditionKey": "aws:ResourceTag/team", "ConditionValue": "plat*"}
    not_equal = {"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "scratch"}
    created = {
        "by-arn": _select(backup, plan_id, "by-arn", Resources=[VOLUME, TABLE]),
        "by-tag": _select(backup, plan_id, "by-tag", ListOfTags=[tag]),
        "by-condition": _select(
            backup,
            plan_id,
            "by-condition",
            Resources=["*"],
            NotResources=[TABLE],
            Conditions={"StringLike": [like], "StringNotEquals": [not_equal]},
        ),
    }
    assert len(set(created.values())) == 3

    listed = backup.list_backup_selections(BackupPlanId=plan_id)
    assert listed["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    assert "NextToken" not in listed
    rows = {row["SelectionName"]: row for row in listed["BackupSelectionsList"]}
    assert {name: row["SelectionId"] for name, row in rows.items()} == created
    for row in rows.values():
        assert row["BackupPlanId"] == plan_id
        assert row["IamRoleArn"] == ROLE
        assert row["CreatorRequestId"]  # boto3 fills the idempotency token in
        age = datetime.datetime.now(datetime.UTC) - row["CreationDate"]
        assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=1)

    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["by-arn"])
    assert got["SelectionId"] == created["by-arn"]
    assert got["BackupPlanId"] == plan_id
    assert got["CreationDate"] == rows["by-arn"]["CreationDate"]
    assert got["CreatorRequestId"] == rows["by-arn"]["CreatorRequestId"]
    assert got["BackupSelection"] == {
        "SelectionName": "by-arn",
        "IamRoleArn": ROLE,
        "Resources": [VOLUME, TABLE],
        "ListOfTags": [],
        "NotResources": [],
        "Conditions": EMPTY_CONDITIONS,
    }
    by_tag = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=created["by-tag"])
    assert by_tag["BackupSelection"]["ListOfTags"] == [tag]
    assert by_tag["BackupSelection"]["Resources"] == []
    by_condition = backup.get_backup_selection(
        BackupPlanId=plan_id, SelectionId=created["by-condition"]
    )["BackupSelection"]
    assert by_condition["Resources"] == ["*"]
    assert by_condition["NotResources"] == [TABLE]
    assert by_condition["Conditions"] == {
        **EMPTY_CONDITIONS,
        "StringLike": [like],
        "StringNotEquals": [not_equal],
    }

    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=created["by-tag"])
    remaining = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert sorted(row["SelectionName"] for row in remaining) == ["by-arn", "by-condition"]
    code = _error_code(
        backup.get_backup_selection, BackupPlanId=plan_id, SelectionId=created["by-tag"]
    )
    assert code == "ResourceNotFoundException"


def test_unknown_plan_is_not_found_through_server(endpoint: str) -> None:
    backup = _backup(endpoint)
    missing = str(uuid.uuid4())
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        _select(backup, missing, "orphan", Resources=[VOLUME])
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.list_backup_selections(BackupPlanId=missing)


@pytest.mark.usefixtures("in_process")
def test_in_process_create_get_delete() -> None:
    backup = _backup()
    plan_id = _plan(backup)
    selection_id = _select(backup, plan_id, "tagged", ListOfTags=[])
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"]["SelectionName"] == "tagged"
    assert got["BackupSelection"]["IamRoleArn"] == ROLE

    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    code = _error_code(
        backup.delete_backup_selection, BackupPlanId=plan_id, SelectionId=selection_id
    )
    assert code == "ResourceNotFoundException"


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("operation", ["create", "get", "list", "delete"])
def test_in_process_unknown_plan_is_not_found(operation: str) -> None:
    backup = _backup()
    missing = {"BackupPlanId": str(uuid.uuid4())}
    calls: dict[str, Callable[[], Any]] = {
        "create": lambda: _select(backup, missing["BackupPlanId"], "orphan"),
        "get": lambda: backup.get_backup_selection(**missing, SelectionId="nope"),
        "list": lambda: backup.list_backup_selections(**missing),
        "delete": lambda: backup.delete_backup_selection(**missing, SelectionId="nope"),
    }
    assert _error_code(calls[operation]) == "ResourceNotFoundException"


@pytest.mark.usefixtures("in_process")
def test_list_paginates() -> None:
    backup = _backup()
    plan_id = _plan(backup)
    names = [f"s{i}" for i in range(5)]
    for name in names:
        _select(backup, plan_id, name, Resources=[VOLUME])

    first = backup.list_backup_selections(BackupPlanId=plan_id, MaxResults=2)
    assert [row["SelectionName"] for row in first["BackupSelectionsList"]] == names[:2]
    assert first["NextToken"]
    pages = backup.get_paginator("list_backup_selections").paginate(
        BackupPlanId=plan_id, PaginationConfig={"PageSize": 2}
    )
    listed = [row["SelectionName"] for page in pages for row in page["BackupSelectionsList"]]
    assert listed == names


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    "members",
    [
        {"SelectionName": "has spaces"},
        {"SelectionName": "x" * 51},
        {"IamRoleArn": "AWSBackupDefaultServiceRole"},
        {
            "ListOfTags": [
                {"ConditionType": "STRINGLIKE", "ConditionKey": "k", "ConditionValue": "v"}
            ]
        },
    ],
)
def test_invalid_selection_is_rejected(members: dict[str, Any]) -> None:
    backup = _backup()
    plan_id = _plan(backup)
    selection = {"SelectionName": "ok", "IamRoleArn": ROLE, **members}
    code = _error_code(
        backup.create_backup_selection, BackupPlanId=plan_id, BackupSelection=selection
    )
    assert code == "InvalidParameterValueException"
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []


@pytest.mark.usefixtures("in_process")
def test_creator_request_id_makes_retries_idempotent() -> None:
    backup = _backup()
    plan_id = _plan(backup)
    selection = {"SelectionName": "retried", "IamRoleArn": ROLE, "Resources": [VOLUME]}
    first = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=selection, CreatorRequestId="req-1"
    )
    retry = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=selection, CreatorRequestId="req-1"
    )
    assert retry["SelectionId"] == first["SelectionId"]
    assert len(backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]) == 1

    changed = {**selection, "Resources": [TABLE]}
    code = _error_code(
        backup.create_backup_selection,
        BackupPlanId=plan_id,
        BackupSelection=changed,
        CreatorRequestId="req-1",
    )
    assert code == "AlreadyExistsException"


@pytest.mark.usefixtures("in_process")
def test_plan_with_selections_cannot_be_deleted() -> None:
    backup = _backup()
    plan_id = _plan(backup)
    selection_id = _select(backup, plan_id, "blocking", Resources=[VOLUME])
    code = _error_code(backup.delete_backup_plan, BackupPlanId=plan_id)
    assert code == "InvalidRequestException"

    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.delete_backup_plan(BackupPlanId=plan_id)["BackupPlanId"] == plan_id
    # moto keeps deleted plans around; they must not take new selections.
    code = _error_code(_select, backup, plan_id, "late", Resources=[VOLUME])
    assert code == "ResourceNotFoundException"


def test_route_is_registered_when_moto_lacks_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # A moto without the catch-all plan pattern: only plan-level routes remain.
    plan_only = {"{0}/backup/plans/?$": backup_urls.response.dispatch}
    monkeypatch.setattr(backup_urls, "url_paths", plan_only)
    backup_selections.ensure_route()
    assert backup_selections.SELECTIONS_ROUTE in plan_only
    route = re.compile(backup_selections.SELECTIONS_ROUTE.format(""))
    match = route.match("/backup/plans/p-1/selections/s-1")
    assert match is not None
    assert match["backupPlanId"] == "p-1"
    assert route.match("/backup/plans/p-1/selections/") is not None
