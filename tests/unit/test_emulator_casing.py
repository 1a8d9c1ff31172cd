"""The emulator's translation between Step Functions and botocore casing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from infra.emulator.casing import (
    error_name,
    operation_model,
    sfn_case,
    to_botocore,
    to_step_functions,
)


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("DBClusterIdentifier", "DbClusterIdentifier"),
        ("DBInstanceStatus", "DbInstanceStatus"),
        ("desiredCount", "DesiredCount"),
        ("MultiAZ", "MultiAz"),
        ("ProvisionedThroughputInMibps", "ProvisionedThroughputInMibps"),
        ("ResourceARN", "ResourceArn"),
        ("InstanceId", "InstanceId"),
    ],
)
def test_sfn_case_matches_the_services_casing(member: str, expected: str) -> None:
    assert sfn_case(member) == expected


def test_request_keys_become_botocore_member_names_recursively() -> None:
    shape = operation_model("ecs", "updateService").input_shape
    request = {"Cluster": "shop", "Service": "api", "DesiredCount": 2}

    assert to_botocore(request, shape) == {"cluster": "shop", "service": "api", "desiredCount": 2}

    nested = operation_model("fsx", "updateFileSystem").input_shape
    assert to_botocore(
        {"FileSystemId": "fs-1", "WindowsConfiguration": {"ThroughputCapacity": 32}}, nested
    ) == {"FileSystemId": "fs-1", "WindowsConfiguration": {"ThroughputCapacity": 32}}


def test_response_keys_get_step_functions_casing_and_timestamps_become_strings() -> None:
    shape = operation_model("rds", "describeDBClusters").output_shape
    created = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    response = {
        "DBClusters": [
            {"DBClusterIdentifier": "db", "Status": "available", "ClusterCreateTime": created}
        ],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }

    assert to_step_functions(response, shape) == {
        "DbClusters": [
            {
                "DbClusterIdentifier": "db",
                "Status": "available",
                "ClusterCreateTime": "2026-11-27T08:00:00+00:00",
            }
        ]
    }


def test_map_keys_are_user_data_and_keep_their_case() -> None:
    shape = operation_model("ecs", "describeServices").output_shape
    assert to_step_functions({"failures": []}, shape) == {"Failures": []}
    tags_shape = operation_model("efs", "describeFileSystems").output_shape
    assert to_step_functions({"FileSystems": [{"Tags": [{"Key": "myKey"}]}]}, tags_shape) == {
        "FileSystems": [{"Tags": [{"Key": "myKey"}]}]
    }


@pytest.mark.parametrize(
    ("service", "code", "expected"),
    [
        ("rds", "InvalidDBClusterStateFault", "Rds.InvalidDbClusterStateException"),
        ("rds", "InvalidDBInstanceState", "Rds.InvalidDbInstanceStateException"),
        ("rds", "DBInstanceNotFound", "Rds.DbInstanceNotFoundException"),
        ("redshift", "InvalidClusterState", "Redshift.InvalidClusterStateException"),
        ("ecs", "ClusterNotFoundException", "Ecs.ClusterNotFoundException"),
        ("ec2", "InvalidInstanceID.NotFound", "Ec2.Ec2Exception"),
        ("rds", "Throttling", "Rds.RdsException"),
    ],
)
def test_error_names_follow_the_service_naming(service: str, code: str, expected: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "m"}}, "Operation")
    assert error_name(service, error) == expected
