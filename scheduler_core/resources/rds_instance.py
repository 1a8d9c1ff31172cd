"""RDS DB instances: StartDBInstance / StopDBInstance."""

from __future__ import annotations

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import Action, ClientFactory, Params, StatusStringKind
from scheduler_core.resources.rds_cluster import RDS_UNUSABLE


class RdsInstanceParams(Params):
    id: Identifier


class RdsInstance(StatusStringKind):
    type_name = "rds_instance"
    params_model = RdsInstanceParams
    service = "rds"
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
        found = clients("rds").describe_db_instances(DBInstanceIdentifier=params.id)
        instances = found.get("DBInstances", [])
        return str(instances[0]["DBInstanceStatus"]) if instances else None
