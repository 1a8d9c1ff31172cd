"""Redshift provisioned clusters: ResumeCluster / PauseCluster."""

from __future__ import annotations

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import Action, ClientFactory, Params, StatusStringKind


class RedshiftClusterParams(Params):
    id: Identifier


class RedshiftCluster(StatusStringKind):
    type_name = "redshift_cluster"
    params_model = RedshiftClusterParams
    service = "redshift"
    error_prefix = "Redshift"
    invalid_state_errors = ("Redshift.InvalidClusterStateException",)
    running_status = "available"
    stopped_status = "paused"
    unusable_statuses = (
        "deleting",
        "final-snapshot",
        "hardware-failure",
        "incompatible-hsm",
        "incompatible-network",
        "incompatible-parameters",
        "incompatible-restore",
    )
    noun = "cluster"

    def label(self, params: RedshiftClusterParams) -> str:
        return params.id

    def action_call(self, params: RedshiftClusterParams, action: Action) -> SdkCall:
        return SdkCall(
            service="redshift",
            action="resumeCluster" if action is Action.START else "pauseCluster",
            parameters={"ClusterIdentifier": params.id},
        )

    def describe_call(self, params: RedshiftClusterParams) -> SdkCall:
        return SdkCall(
            service="redshift",
            action="describeClusters",
            parameters={"ClusterIdentifier": params.id},
            result_selector={"status.$": "$.Clusters[0].ClusterStatus"},
        )

    def fetch_status(self, params: RedshiftClusterParams, clients: ClientFactory) -> str | None:
        # An unknown id is ClusterNotFound.
        found = clients("redshift").describe_clusters(ClusterIdentifier=params.id)
        clusters = found.get("Clusters", [])
        return str(clusters[0]["ClusterStatus"]) if clusters else None
