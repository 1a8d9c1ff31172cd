"""Aurora and Multi-AZ DB clusters: StartDBCluster / StopDBCluster."""

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
from scheduler_core.resources.rds import DB_CLUSTERS, RDS_UNUSABLE

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader


class RdsClusterParams(Params):
    id: Identifier


class RdsCluster(StatusStringKind):
    type_name = "rds_cluster"
    params_model = RdsClusterParams
    example = RdsClusterParams(id="staging-db")
    iam = KindIam(
        control=("rds:StartDBCluster", "rds:StopDBCluster"), read=("rds:DescribeDBClusters",)
    )
    has_windows = True
    auto_start_event = "RDS-EVENT-0153"
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
        cluster = DB_CLUSTERS.describe(clients, params.id)
        return str(cluster["Status"]) if cluster else None

    def schedule_identity(self, params: RdsClusterParams) -> TargetIdentity:
        return by_id(params.id, service="rds", keys=("dbclusteridentifier",), arn_prefix="cluster:")

    def scheduler_tag(self, reader: SourceReader, params: RdsClusterParams, key: str) -> str | None:
        return DB_CLUSTERS.scheduler_tag(reader, params.id, key)

    def read_windows(
        self, params: RdsClusterParams, clients: ClientFactory, account_id: Callable[[], str]
    ) -> WindowFacts | None:
        return DB_CLUSTERS.window_facts(clients, params.id)
