"""FSx for Windows File Server throughput: the configured MB/s on start, 32 on stop."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import field_validator

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.fields import Identifier, PositiveInt
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

MINIMUM_THROUGHPUT = 32
# The throughput capacities (MB/s) FSx for Windows File Server accepts. The FSx API
# Reference (UpdateFileSystemWindowsConfiguration) lists powers of 2 from 8 to 2048;
# Single-AZ 2 and Multi-AZ file systems start at 32 (hence the stop's minimum) and,
# with SSD storage, also take the larger levels of the Windows User Guide.
SMALL_THROUGHPUTS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
LARGE_THROUGHPUTS = (4608, 6144, 9216, 12288)
THROUGHPUTS = frozenset((*SMALL_THROUGHPUTS, *LARGE_THROUGHPUTS))
PENDING = "$.FileSystems[0].AdministrativeActions[?(@.Status == '{}')].AdministrativeActionType"


def _listed(values: tuple[int, ...]) -> str:
    return f"{', '.join(map(str, values[:-1]))} or {values[-1]}"


class FsxWindowsFileSystemParams(Params):
    id: Identifier
    throughput_capacity: PositiveInt

    @field_validator("throughput_capacity")
    @classmethod
    def _a_capacity_fsx_accepts(cls, value: int) -> int:
        if value not in THROUGHPUTS:
            raise ValueError(
                "expected a throughput capacity FSx for Windows File Server accepts: "
                f"{_listed(SMALL_THROUGHPUTS)} MB/s (Single-AZ 2 and Multi-AZ from 32), "
                f"or with SSD storage on Single-AZ 2 and Multi-AZ {_listed(LARGE_THROUGHPUTS)}; "
                f"got {value}"
            )
        return value


class FsxWindowsFileSystem(PolledKind):
    type_name = "fsx_windows_file_system"
    params_model = FsxWindowsFileSystemParams
    example = FsxWindowsFileSystemParams(id="fs-0123456789abcdef1", throughput_capacity=64)
    iam = KindIam(control=("fsx:UpdateFileSystem",), read=("fsx:DescribeFileSystems",))
    error_prefix = "FSx"

    def label(self, params: FsxWindowsFileSystemParams) -> str:
        return params.id

    def schedule_identity(self, params: FsxWindowsFileSystemParams) -> TargetIdentity:
        return by_id(
            params.id,
            service="fsx",
            keys=("filesystemid", "filesystemids"),
            arn_prefix="file-system/",
        )

    @staticmethod
    def target(params: FsxWindowsFileSystemParams, action: Action) -> int:
        return params.throughput_capacity if action is Action.START else MINIMUM_THROUGHPUT

    def action_call(self, params: FsxWindowsFileSystemParams, action: Action) -> SdkCall:
        return SdkCall(
            service="fsx",
            action="updateFileSystem",
            parameters={
                "FileSystemId": params.id,
                "WindowsConfiguration": {"ThroughputCapacity": self.target(params, action)},
            },
        )

    def describe_call(self, params: FsxWindowsFileSystemParams) -> SdkCall:
        return SdkCall(
            service="fsx",
            action="describeFileSystems",
            parameters={"FileSystemIds": [params.id]},
            result_selector={
                "status.$": "$.FileSystems[0].Lifecycle",
                "throughput.$": "$.FileSystems[0].WindowsConfiguration.ThroughputCapacity",
                "pending.$": PENDING.format("PENDING"),
                "in_progress.$": PENDING.format("IN_PROGRESS"),
            },
        )

    def conditions(self, params: FsxWindowsFileSystemParams, action: Action) -> dict[str, Any]:
        idle = all_of(
            is_string("status", "AVAILABLE"),
            is_present("pending[0]", False),
            is_present("in_progress[0]", False),
        )
        applied = is_number("throughput", self.target(params, action))
        return {
            "ready": all_of(idle, applied),
            "actionable": all_of(idle, {"Not": applied}),
            "unusable": is_one_of("status", ["FAILED", "DELETING"]),
        }

    def read_status(
        self, params: FsxWindowsFileSystemParams, clients: ClientFactory
    ) -> ResourceStatus:
        try:
            found = clients("fsx").describe_file_systems(FileSystemIds=[params.id])
        except ClientError as exc:
            if not is_not_found(exc, "FileSystemNotFound"):
                raise
            return self.missing(params.id, f"file system {params.id} not found")
        # AWS answers FileSystemNotFound for an unknown id; an empty list would mean the same.
        if not found["FileSystems"]:
            return self.missing(params.id, f"file system {params.id} not found")
        system = found["FileSystems"][0]
        throughput = system.get("WindowsConfiguration", {}).get("ThroughputCapacity")
        busy = any(
            a.get("Status") in {"PENDING", "IN_PROGRESS"}
            for a in system.get("AdministrativeActions", [])
        )
        if busy or system.get("Lifecycle", "AVAILABLE") != "AVAILABLE":
            state = ResourceState.TRANSITIONING
        elif throughput == params.throughput_capacity:
            state = ResourceState.RUNNING
        elif throughput == MINIMUM_THROUGHPUT:
            state = ResourceState.STOPPED
        else:
            state = ResourceState.TRANSITIONING
        return ResourceStatus(
            type=self.type_name,
            id=params.id,
            state=state,
            detail=f"{throughput} MB/s" + (", update pending" if busy else ""),
        )
