"""Redshift provisioned clusters: ResumeCluster / PauseCluster."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.aws_calls import is_not_found, tags_of
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


class RedshiftClusterParams(Params):
    id: Identifier


class RedshiftCluster(StatusStringKind):
    type_name = "redshift_cluster"
    params_model = RedshiftClusterParams
    example = RedshiftClusterParams(id="warehouse")
    iam = KindIam(
        control=("redshift:PauseCluster", "redshift:ResumeCluster"),
        read=("redshift:DescribeClusters",),
    )
    has_windows = True
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

    def schedule_identity(self, params: RedshiftClusterParams) -> TargetIdentity:
        return by_id(
            params.id, service="redshift", keys=("clusteridentifier",), arn_prefix="cluster:"
        )

    def read_windows(
        self, params: RedshiftClusterParams, clients: ClientFactory, account_id: Callable[[], str]
    ) -> WindowFacts | None:
        client = clients("redshift")
        try:
            cluster = client.describe_clusters(ClusterIdentifier=params.id)["Clusters"][0]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        # describe_clusters returns no cluster ARN; AWS Backup selects this form.
        arn = (
            f"arn:{client.meta.partition}:redshift:{client.meta.region_name}:"
            f"{account_id()}:cluster:{params.id}"
        )
        return WindowFacts(
            arn=arn,
            tags=tags_of(cluster.get("Tags")),
            maintenance=cluster.get("PreferredMaintenanceWindow"),
        )
