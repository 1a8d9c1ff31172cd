"""EFS provisioned throughput: the configured MiB/s on start, the minimum on stop."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.fields import Identifier, Throughput
from scheduler_core.resources.base import (
    Action,
    ClientFactory,
    KindIam,
    Params,
    PolledKind,
    ResourceState,
    ResourceStatus,
    all_of,
    is_not_found,
    is_number,
    is_one_of,
    is_present,
    is_string,
)

MINIMUM_MIBPS = 1.0


class EfsFileSystemParams(Params):
    id: Identifier
    provisioned_throughput_in_mibps: Throughput


class EfsFileSystem(PolledKind):
    type_name = "efs_file_system"
    params_model = EfsFileSystemParams
    example = EfsFileSystemParams(id="fs-0123456789abcdef0", provisioned_throughput_in_mibps=64)
    iam = KindIam(
        control=("elasticfilesystem:UpdateFileSystem",),
        read=("elasticfilesystem:DescribeFileSystems",),
    )
    error_prefix = "Efs"
    invalid_state_errors = ("Efs.IncorrectFileSystemLifeCycleStateException",)

    def label(self, params: EfsFileSystemParams) -> str:
        return params.id

    def schedule_identity(self, params: EfsFileSystemParams) -> TargetIdentity:
        return by_id(
            params.id,
            service="efs",
            keys=("filesystemid",),
            arn_prefix="file-system/",
            arn_service="elasticfilesystem",
        )

    @staticmethod
    def target(params: EfsFileSystemParams, action: Action) -> float:
        return params.provisioned_throughput_in_mibps if action is Action.START else MINIMUM_MIBPS

    def action_call(self, params: EfsFileSystemParams, action: Action) -> SdkCall:
        return SdkCall(
            service="efs",
            action="updateFileSystem",
            parameters={
                "FileSystemId": params.id,
                "ThroughputMode": "provisioned",
                "ProvisionedThroughputInMibps": self.target(params, action),
            },
        )

    def describe_call(self, params: EfsFileSystemParams) -> SdkCall:
        return SdkCall(
            service="efs",
            action="describeFileSystems",
            parameters={"FileSystemId": params.id},
            result_selector={
                "status.$": "$.FileSystems[0].LifeCycleState",
                # Absent in bursting mode; a projection keeps that from being an error.
                "throughput.$": "$.FileSystems[*].ProvisionedThroughputInMibps",
            },
        )

    def conditions(self, params: EfsFileSystemParams, action: Action) -> dict[str, Any]:
        available = is_string("status", "available")
        applied = all_of(
            is_present("throughput[0]"),
            is_number("throughput[0]", self.target(params, action)),
        )
        return {
            "ready": all_of(available, applied),
            "actionable": all_of(available, {"Not": applied}),
            "unusable": is_one_of("status", ["deleting", "deleted", "error"]),
        }

    def read_status(self, params: EfsFileSystemParams, clients: ClientFactory) -> ResourceStatus:
        try:
            found = clients("efs").describe_file_systems(FileSystemId=params.id)
        except ClientError as exc:
            if not is_not_found(exc, "FileSystemNotFound"):
                raise
            return self.missing(params.id, f"file system {params.id} not found")
        if not found["FileSystems"]:
            return self.missing(params.id, f"file system {params.id} not found")
        system = found["FileSystems"][0]
        throughput = system.get("ProvisionedThroughputInMibps")
        if system["LifeCycleState"] != "available":
            state = ResourceState.TRANSITIONING
        elif throughput == params.provisioned_throughput_in_mibps:
            state = ResourceState.RUNNING
        elif throughput == MINIMUM_MIBPS:
            state = ResourceState.STOPPED
        else:
            state = ResourceState.TRANSITIONING
        shown = f"{throughput:g} MiB/s" if throughput is not None else system["ThroughputMode"]
        return ResourceStatus(
            type=self.type_name,
            id=params.id,
            state=state,
            detail=f"{system['LifeCycleState']}, {shown}",
        )
