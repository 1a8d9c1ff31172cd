"""Amazon DocumentDB clusters: StartDBCluster / StopDBCluster of the ``docdb`` API.

The RDS API serves them (IAM actions ``rds:*``, ARNs ``arn:aws:rds:…:cluster:<id>``);
ready only when the cluster and every member instance are available (or stopped),
as ``RdsApiCluster`` says. AWS starts a cluster stopped for 7 days by itself and
reports it with the RDS cluster event RDS-EVENT-0153, as for Aurora.
"""

from __future__ import annotations

from scheduler_core.resources.rds import ClusterParams, RdsApiCluster


class DocdbCluster(RdsApiCluster):
    type_name = "docdb_cluster"
    example = ClusterParams(id="staging-docs")
    service = "docdb"
    error_prefix = "DocDb"
    invalid_state_errors = ("DocDb.InvalidDbClusterStateException",)
