"""Aurora and Multi-AZ DB clusters: StartDBCluster / StopDBCluster.

Ready only when the cluster and every member instance are available (or stopped):
``RdsApiCluster`` in ``resources/rds.py``, shared with DocumentDB and Neptune.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler_core.resources.rds import DB_CLUSTERS, ClusterParams, RdsApiCluster

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader


class RdsCluster(RdsApiCluster):
    type_name = "rds_cluster"
    example = ClusterParams(id="staging-db")
    service = "rds"
    error_prefix = "Rds"
    invalid_state_errors = ("Rds.InvalidDbClusterStateException",)

    def scheduler_tag(self, reader: SourceReader, params: ClusterParams, key: str) -> str | None:
        return DB_CLUSTERS.scheduler_tag(reader, params.id, key)
