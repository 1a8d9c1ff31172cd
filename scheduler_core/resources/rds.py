"""What the RDS API's kinds share: DB instances, Aurora and Multi-AZ DB clusters, and
the DocumentDB and Neptune clusters the same API serves.

Each kind module states its own names; the shared shapes of the API's answers
(statuses, windows, tags, "not found") live here once, and so does what its
clusters share (``RdsApiCluster``): a cluster is ready only when it and every member
instance are in the target status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.aws_calls import ClientFactory, is_not_found, tags_of
from scheduler_core.conflicts.identity import TargetIdentity, by_id
from scheduler_core.conflicts.tags import tag_value
from scheduler_core.fields import Identifier
from scheduler_core.resources.base import (
    Action,
    KindIam,
    Params,
    ResourceState,
    ResourceStatus,
    StatusStringKind,
    WindowFacts,
    all_of,
    is_present,
)

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader

# Statuses from which neither start nor stop can succeed without a human.
RDS_UNUSABLE = (
    "deleting",
    "failed",
    "inaccessible-encryption-credentials",
    "incompatible-network",
    "incompatible-parameters",
    "incompatible-restore",
)


class RdsApi:
    """One RDS collection: ``describe_db_instances`` or ``describe_db_clusters``.

    Attributes:
        operation: The boto3 describe operation.
        id_parameter: Its identifier parameter (``DBInstanceIdentifier``).
        answer_key: The list in the answer (``DBInstances``).
        arn_key: Where each entry carries its ARN (``DBInstanceArn``).
    """

    def __init__(self, operation: str, id_parameter: str, answer_key: str, arn_key: str) -> None:
        self.operation = operation
        self.id_parameter = id_parameter
        self.answer_key = answer_key
        self.arn_key = arn_key

    def describe(
        self, clients: ClientFactory, identifier: str, service: str = "rds"
    ) -> dict[str, Any] | None:
        """The one entry for ``identifier``; None when RDS lists none.

        ``service`` is the client to ask: ``docdb`` and ``neptune`` serve the same API.
        """
        found = getattr(clients(service), self.operation)(**{self.id_parameter: identifier})
        entries = found.get(self.answer_key, [])
        return dict(entries[0]) if entries else None

    def window_facts(
        self, clients: ClientFactory, identifier: str, service: str = "rds"
    ) -> WindowFacts | None:
        """Maintenance and backup windows (an Aurora member reports its cluster's)."""
        try:
            described = self.describe(clients, identifier, service)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        if described is None:
            return None
        return WindowFacts(
            arn=str(described.get(self.arn_key, "")),
            tags=tags_of(described.get("TagList")),
            maintenance=described.get("PreferredMaintenanceWindow"),
            has_backup=True,
            backup=described.get("PreferredBackupWindow"),
        )

    def scheduler_tag(self, reader: SourceReader, identifier: str, key: str) -> str | None:
        """The tag's value from the TagList the describe answer carries (no ARN needed)."""
        found = reader.read("rds", self.operation, **{self.id_parameter: identifier})
        entries = (found or {}).get(self.answer_key, [])
        return tag_value(entries[0].get("TagList") if entries else None, key)


DB_INSTANCES = RdsApi(
    "describe_db_instances", "DBInstanceIdentifier", "DBInstances", "DBInstanceArn"
)
DB_CLUSTERS = RdsApi("describe_db_clusters", "DBClusterIdentifier", "DBClusters", "DBClusterArn")


def cluster_members(
    clients: ClientFactory, cluster_id: str, service: str = "rds"
) -> dict[str, str]:
    """Member instance id -> its status (none for a cluster without instances)."""
    found = clients(service).describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]
    )
    return {
        str(instance["DBInstanceIdentifier"]): str(instance["DBInstanceStatus"])
        for instance in found.get("DBInstances", [])
    }


class ClusterParams(Params):
    id: Identifier


class RdsApiCluster(StatusStringKind):
    """A cluster of the RDS API: Aurora or Multi-AZ (``rds``), DocumentDB, Neptune.

    Started and stopped with StartDBCluster / StopDBCluster of its SDK service. The
    cluster can report ``available`` before its member instances are (and ``stopped``
    before they are), so every poll also lists the members not yet in the target
    status (``$.poll.members``) and the step is ready only when there are none.
    """

    # The Step Functions SDK service (and boto3 client) of the kind: rds, docdb, neptune.
    service: ClassVar[str]
    params_model = ClusterParams
    iam = KindIam(
        control=("rds:StartDBCluster", "rds:StopDBCluster"),
        read=("rds:DescribeDBClusters", "rds:DescribeDBInstances"),
    )
    has_windows = True
    # The same event for every engine the RDS API serves (DocumentDB and Neptune use
    # the RDS event IDs): "DB cluster is being started because it exceeded the
    # maximum time stopped".
    auto_start_event = "RDS-EVENT-0153"
    running_status = "available"
    stopped_status = "stopped"
    unusable_statuses = RDS_UNUSABLE
    noun = "DB cluster"

    def schedule_identity(self, params: ClusterParams) -> TargetIdentity:
        # Whichever SDK service starts it, the ARN is an RDS one.
        return by_id(
            params.id,
            service=self.service,
            keys=("dbclusteridentifier",),
            arn_prefix="cluster:",
            arn_service="rds",
        )

    def label(self, params: ClusterParams) -> str:
        return params.id

    def target_status(self, action: Action) -> str:
        return self.running_status if action is Action.START else self.stopped_status

    def action_call(self, params: ClusterParams, action: Action) -> SdkCall:
        return SdkCall(
            service=self.service,
            action="startDBCluster" if action is Action.START else "stopDBCluster",
            parameters={"DbClusterIdentifier": params.id},
        )

    def describe_call(self, params: ClusterParams) -> SdkCall:
        return SdkCall(
            service=self.service,
            action="describeDBClusters",
            parameters={"DbClusterIdentifier": params.id},
            result_selector={"status.$": "$.DbClusters[0].Status"},
        )

    def second_describe_call(self, params: ClusterParams, action: Action) -> SdkCall:
        # The members not in the target status: those whose status sorts before it and
        # those whose status sorts after it. (Step Functions' JSONPath filters compare
        # with ==, <, <=, >, >=; there is no != to list them at once.)
        target = self.target_status(action)
        members = "$.DbInstances[?(@.DbInstanceStatus {} '" + target + "')].DbInstanceIdentifier"
        return SdkCall(
            service=self.service,
            action="describeDBInstances",
            parameters={"Filters": [{"Name": "db-cluster-id", "Values": [params.id]}]},
            result_selector={"before.$": members.format("<"), "after.$": members.format(">")},
        )

    def conditions(self, params: ClusterParams, action: Action) -> dict[str, Any]:
        conditions = super().conditions(params, action)
        # Ready: the cluster is, and no member is left that is not (no element 0).
        conditions["ready"] = all_of(
            conditions["ready"],
            is_present("members.before[0]", present=False),
            is_present("members.after[0]", present=False),
        )
        return conditions

    def fetch_status(self, params: ClusterParams, clients: ClientFactory) -> str | None:
        # An unknown id is DBClusterNotFoundFault.
        cluster = DB_CLUSTERS.describe(clients, params.id, self.service)
        return str(cluster["Status"]) if cluster else None

    def read_status(self, params: ClusterParams, clients: ClientFactory) -> ResourceStatus:
        status = super().read_status(params, clients)
        if status.state not in (ResourceState.RUNNING, ResourceState.STOPPED):
            return status
        members = cluster_members(clients, params.id, self.service)
        pending = sorted(name for name, seen in members.items() if seen != status.detail)
        if not pending:
            return status
        return replace(
            status,
            state=ResourceState.TRANSITIONING,
            detail=f"{status.detail}; members not yet {status.detail}: {', '.join(pending)}",
        )

    def read_windows(
        self, params: ClusterParams, clients: ClientFactory, account_id: Callable[[], str]
    ) -> WindowFacts | None:
        return DB_CLUSTERS.window_facts(clients, params.id, self.service)
