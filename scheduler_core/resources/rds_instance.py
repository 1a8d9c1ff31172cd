"""RDS DB instances: StartDBInstance / StopDBInstance."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import (
    Action,
    ClientFactory,
    KindIam,
    Params,
    StatusStringKind,
    WindowFacts,
)
from scheduler_core.resources.rds import DB_INSTANCES, RDS_UNUSABLE

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader


class RdsInstanceParams(Params):
    id: Identifier


class RdsInstance(StatusStringKind):
    type_name = "rds_instance"
    params_model = RdsInstanceParams
    example = RdsInstanceParams(id="staging-db-1")
    iam = KindIam(
        control=("rds:StartDBInstance", "rds:StopDBInstance"), read=("rds:DescribeDBInstances",)
    )
    has_windows = True
    auto_start_event = "RDS-EVENT-0154"
    error_prefix = "Rds"
    invalid_state_errors = ("Rds.InvalidDbInstanceStateException",)
    running_status = "available"
    stopped_status = "stopped"
    unusable_statuses = (*RDS_UNUSABLE, "storage-full")
    noun = "DB instance"

    def label(self, params: RdsInstanceParams) -> str:
        return params.id

    def action_call(self, params: RdsInstanceParams, action: Action) -> SdkCall:
        return SdkCall(
            service="rds",
            action="startDBInstance" if action is Action.START else "stopDBInstance",
            parameters={"DbInstanceIdentifier": params.id},
        )

    def describe_call(self, params: RdsInstanceParams) -> SdkCall:
        return SdkCall(
            service="rds",
            action="describeDBInstances",
            parameters={"DbInstanceIdentifier": params.id},
            result_selector={"status.$": "$.DbInstances[0].DbInstanceStatus"},
        )

    def fetch_status(self, params: RdsInstanceParams, clients: ClientFactory) -> str | None:
        # An unknown id is DBInstanceNotFound.
        instance = DB_INSTANCES.describe(clients, params.id)
        return str(instance["DBInstanceStatus"]) if instance else None

    def schedule_identity(self, params: RdsInstanceParams) -> TargetIdentity:
        return by_id(params.id, service="rds", keys=("dbinstanceidentifier",), arn_prefix="db:")

    def scheduler_tag(
        self, reader: SourceReader, params: RdsInstanceParams, key: str
    ) -> str | None:
        # DescribeDBInstances returns the TagList, which saves building the ARN.
        return DB_INSTANCES.scheduler_tag(reader, params.id, key)

    def read_windows(
        self, params: RdsInstanceParams, clients: ClientFactory, account_id: Callable[[], str]
    ) -> WindowFacts | None:
        return DB_INSTANCES.window_facts(clients, params.id)
