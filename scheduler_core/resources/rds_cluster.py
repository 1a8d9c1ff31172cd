"""Aurora and Multi-AZ DB clusters: StartDBCluster / StopDBCluster."""

from __future__ import annotations

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import Action, ClientFactory, Params, StatusStringKind

# Statuses from which neither start nor stop can succeed without a human.
RDS_UNUSABLE = (
    "deleting",
    "failed",
    "inaccessible-encryption-credentials",
    "incompatible-network",
    "incompatible-parameters",
    "incompatible-restore",
)


class RdsClusterParams(Params):
    id: Identifier


class RdsCluster(StatusStringKind):
    type_name = "rds_cluster"
    params_model = RdsClusterParams
    service = "rds"
    error_prefix = "Rds"
    invalid_state_errors = ("Rds.InvalidDbClusterStateException",)
    running_status = "available"
    stopped_status = "stopped"
    unusable_statuses = RDS_UNUSABLE
    noun = "DB cluster"

    def label(self, params: RdsClusterParams) -> str:
        return params.id

    def action_call(self, params: RdsClusterParams, action: Action) -> SdkCall:
        return SdkCall(
            service="rds",
            action="startDBCluster" if action is Action.START else "stopDBCluster",
            parameters={"DbClusterIdentifier": params.id},
        )

    def describe_call(self, params: RdsClusterParams) -> SdkCall:
        return SdkCall(
            service="rds",
            action="describeDBClusters",
            parameters={"DbClusterIdentifier": params.id},
            result_selector={"status.$": "$.DbClusters[0].Status"},
        )

    def fetch_status(self, params: RdsClusterParams, clients: ClientFactory) -> str | None:
        # An unknown id is DBClusterNotFoundFault.
        found = clients("rds").describe_db_clusters(DBClusterIdentifier=params.id)
        clusters = found.get("DBClusters", [])
        return str(clusters[0]["Status"]) if clusters else None
