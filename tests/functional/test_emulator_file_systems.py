"""Functional tests for the emulator's EFS/FSx ``UpdateFileSystem`` patches.

Happy paths run through a real ``ThreadedMotoServer`` (how the emulator runs); the rest
also exercise the in-process ``mock_aws()`` path.
"""

from __future__ import annotations

import datetime
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.fsx.models import FileSystem as FsxFileSystem
from moto.server import ThreadedMotoServer

from infra.emulator import file_systems

REGION = "us-east-1"
SUBNET = "subnet-0123456789abcdef0"  # moto's FSx needs subnet ids of length >= 15


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no ambient endpoint override, patches installed, delays 0."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EFS",
        "AWS_ENDPOINT_URL_FSX",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        file_systems.FSX_UPDATE_SECONDS_ENV,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(file_systems, "FSX_UPDATE_SECONDS", 0.0)
    monkeypatch.setattr(file_systems, "EFS_UPDATE_SECONDS", 0.0)
    file_systems.install()


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


def _client(service: str, endpoint_url: str | None = None, **config: Any) -> Any:
    return boto3.client(
        service, region_name=REGION, endpoint_url=endpoint_url, config=Config(**config)
    )


def _windows_fs(fsx: Any, throughput: int = 8) -> str:
    response = fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=32,
        SubnetIds=[SUBNET],
        WindowsConfiguration={"ThroughputCapacity": throughput},
    )
    return response["FileSystem"]["FileSystemId"]


def _describe_fsx(fsx: Any, file_system_id: str) -> dict[str, Any]:
    (file_system,) = fsx.describe_file_systems(FileSystemIds=[file_system_id])["FileSystems"]
    return file_system


def test_install_is_idempotent() -> None:
    wrapped = FsxFileSystem.to_dict
    file_systems.install()
    file_systems.install()
    assert FsxFileSystem.to_dict is wrapped


def test_efs_update_changes_provisioned_throughput(endpoint: str) -> None:
    efs = _client("efs", endpoint)
    fs_id = efs.create_file_system(CreationToken="envctl-efs")["FileSystemId"]

    response = efs.update_file_system(
        FileSystemId=fs_id, ThroughputMode="provisioned", ProvisionedThroughputInMibps=128
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert response["FileSystemId"] == fs_id
    assert response["ThroughputMode"] == "provisioned"
    assert response["ProvisionedThroughputInMibps"] == 128.0

    # Already provisioned: the figure alone may change.
    efs.update_file_system(FileSystemId=fs_id, ProvisionedThroughputInMibps=256.5)
    (described,) = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"]
    assert described["ThroughputMode"] == "provisioned"
    assert described["ProvisionedThroughputInMibps"] == 256.5
    assert described["LifeCycleState"] == "available"


def test_efs_update_in_process_switches_mode() -> None:
    with mock_aws():
        efs = _client("efs")
        fs_id = efs.create_file_system(
            CreationToken="envctl-efs",
            ThroughputMode="provisioned",
            ProvisionedThroughputInMibps=64,
        )["FileSystemId"]
        efs.update_file_system(FileSystemId=fs_id, ThroughputMode="elastic")
        (described,) = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"]
    assert described["ThroughputMode"] == "elastic"
    assert "ProvisionedThroughputInMibps" not in described


def test_efs_update_unknown_id_is_not_found(endpoint: str) -> None:
    efs = _client("efs", endpoint)
    with pytest.raises(ClientError) as excinfo:
        efs.update_file_system(FileSystemId="fs-0123456789abcdef0", ThroughputMode="elastic")
    assert excinfo.value.response["Error"]["Code"] == "FileSystemNotFound"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_efs_provisioned_throughput_requires_provisioned_mode() -> None:
    with mock_aws():
        efs = _client("efs")
        fs_id = efs.create_file_system(CreationToken="envctl-efs")["FileSystemId"]
        with pytest.raises(ClientError) as excinfo:
            efs.update_file_system(FileSystemId=fs_id, ProvisionedThroughputInMibps=10)
        (described,) = efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"]
    assert excinfo.value.response["Error"]["Code"] == "BadRequest"
    assert described["ThroughputMode"] == "bursting"


def test_efs_provisioned_throughput_below_minimum_rejected_by_server(endpoint: str) -> None:
    # botocore enforces min 1.0 client-side; disable that to reach the server check.
    efs = _client("efs", endpoint, parameter_validation=False)
    fs_id = efs.create_file_system(CreationToken="envctl-efs")["FileSystemId"]
    with pytest.raises(ClientError) as excinfo:
        efs.update_file_system(
            FileSystemId=fs_id, ThroughputMode="provisioned", ProvisionedThroughputInMibps=0.5
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequest"


def test_fsx_describe_reports_lifecycle_and_actions() -> None:
    with mock_aws():
        fsx = _client("fsx")
        described = _describe_fsx(fsx, _windows_fs(fsx))
    assert described["Lifecycle"] == "AVAILABLE"
    assert described["AdministrativeActions"] == []


def test_fsx_update_with_zero_delay_completes(endpoint: str) -> None:
    fsx = _client("fsx", endpoint)
    fs_id = _windows_fs(fsx, throughput=8)

    updated = fsx.update_file_system(
        FileSystemId=fs_id, WindowsConfiguration={"ThroughputCapacity": 16}
    )["FileSystem"]
    (action,) = updated["AdministrativeActions"]
    assert action["AdministrativeActionType"] == "FILE_SYSTEM_UPDATE"
    assert action["Status"] == "PENDING"
    assert isinstance(action["RequestTime"], datetime.datetime)
    assert updated["WindowsConfiguration"]["ThroughputCapacity"] == 8

    described = _describe_fsx(fsx, fs_id)
    (action,) = described["AdministrativeActions"]
    assert action["Status"] == "COMPLETED"
    assert action["ProgressPercent"] == 100
    assert action["TargetFileSystemValues"]["WindowsConfiguration"]["ThroughputCapacity"] == 16
    assert described["WindowsConfiguration"]["ThroughputCapacity"] == 16
    assert described["Lifecycle"] == "AVAILABLE"


def test_fsx_update_with_delay_is_pending_first(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_systems, "FSX_UPDATE_SECONDS", 0.5)
    fsx = _client("fsx", endpoint)
    fs_id = _windows_fs(fsx, throughput=8)
    fsx.update_file_system(FileSystemId=fs_id, WindowsConfiguration={"ThroughputCapacity": 32})

    pending = _describe_fsx(fsx, fs_id)
    assert pending["AdministrativeActions"][0]["Status"] == "PENDING"
    assert pending["WindowsConfiguration"]["ThroughputCapacity"] == 8
    # A second throughput change is refused while the first is still pending.
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=fs_id, WindowsConfiguration={"ThroughputCapacity": 64})
    assert excinfo.value.response["Error"]["Code"] == "BadRequest"

    time.sleep(0.7)
    done = _describe_fsx(fsx, fs_id)
    assert [a["Status"] for a in done["AdministrativeActions"]] == ["COMPLETED"]
    assert done["WindowsConfiguration"]["ThroughputCapacity"] == 32


def test_fsx_delay_env_var_overrides_module_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(file_systems.FSX_UPDATE_SECONDS_ENV, "30")
    with mock_aws():
        fsx = _client("fsx")
        fs_id = _windows_fs(fsx, throughput=8)
        fsx.update_file_system(FileSystemId=fs_id, WindowsConfiguration={"ThroughputCapacity": 16})
        described = _describe_fsx(fsx, fs_id)
    assert described["AdministrativeActions"][0]["Status"] == "PENDING"
    assert described["WindowsConfiguration"]["ThroughputCapacity"] == 8


def test_fsx_client_request_token_replay_is_idempotent() -> None:
    with mock_aws():
        fsx = _client("fsx")
        fs_id = _windows_fs(fsx, throughput=8)
        request = {"FileSystemId": fs_id, "WindowsConfiguration": {"ThroughputCapacity": 16}}
        fsx.update_file_system(ClientRequestToken="retry-1", **request)
        fsx.update_file_system(ClientRequestToken="retry-1", **request)
        described = _describe_fsx(fsx, fs_id)
    assert len(described["AdministrativeActions"]) == 1
    assert described["WindowsConfiguration"]["ThroughputCapacity"] == 16


def test_fsx_invalid_throughput_is_rejected(endpoint: str) -> None:
    fsx = _client("fsx", endpoint)
    fs_id = _windows_fs(fsx, throughput=8)
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(FileSystemId=fs_id, WindowsConfiguration={"ThroughputCapacity": 100})
    assert excinfo.value.response["Error"]["Code"] == "BadRequest"
    described = _describe_fsx(fsx, fs_id)
    assert described["AdministrativeActions"] == []
    assert described["WindowsConfiguration"]["ThroughputCapacity"] == 8


def test_fsx_update_unknown_id_is_not_found(endpoint: str) -> None:
    fsx = _client("fsx", endpoint)
    with pytest.raises(ClientError) as excinfo:
        fsx.update_file_system(
            FileSystemId="fs-0123456789abcdef0", WindowsConfiguration={"ThroughputCapacity": 16}
        )
    assert excinfo.value.response["Error"]["Code"] == "FileSystemNotFound"
