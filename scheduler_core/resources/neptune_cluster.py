"""Amazon Neptune DB clusters: StartDBCluster / StopDBCluster of the ``neptune`` API.

The RDS API serves them (IAM actions ``rds:*``, ARNs ``arn:aws:rds:…:cluster:<id>``);
ready only when the cluster and every member instance are available (or stopped),
as ``RdsApiCluster`` says. AWS starts a cluster stopped for 7 days by itself and
reports it with the RDS cluster event RDS-EVENT-0153, as for Aurora.
"""

from __future__ import annotations

from scheduler_core.resources.rds import ClusterParams, RdsApiCluster


class NeptuneCluster(RdsApiCluster):
    type_name = "neptune_cluster"
    example = ClusterParams(id="staging-graph")
    service = "neptune"
    error_prefix = "Neptune"
    invalid_state_errors = ("Neptune.InvalidDbClusterStateException",)
