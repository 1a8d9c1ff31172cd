"""What the RDS API's kinds share: DB instances, Aurora and Multi-AZ DB clusters, and
the DocumentDB and Neptune clusters the same API serves.

Each kind module states its own names; the shared shapes of the API's answers
(statuses, windows, tags, "not found") live here once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from scheduler_core.aws_calls import ClientFactory, is_not_found, tags_of
from scheduler_core.conflicts.tags import tag_value
from scheduler_core.resources.base import WindowFacts

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

    def describe(self, clients: ClientFactory, identifier: str) -> dict[str, Any] | None:
        """The one entry for ``identifier``; None when RDS lists none."""
        found = getattr(clients("rds"), self.operation)(**{self.id_parameter: identifier})
        entries = found.get(self.answer_key, [])
        return dict(entries[0]) if entries else None

    def window_facts(self, clients: ClientFactory, identifier: str) -> WindowFacts | None:
        """Maintenance and backup windows (an Aurora member reports its cluster's)."""
        try:
            described = self.describe(clients, identifier)
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
