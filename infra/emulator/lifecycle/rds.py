"""RDS DB instances and Aurora clusters: ``starting`` / ``stopping``, blocking states.

The member instances of a cluster start and stop with it but, as AWS can, finish a
while after it (``rds_cluster.members``): the cluster reports ``available`` while a
member is still ``starting``. While ``faults.blocked`` shows a state such as
``backing-up``, a start or stop is refused as AWS refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import duration
from infra.emulator.lifecycle.faults import blocking_state
from infra.emulator.lifecycle.transitions import begin, set_status, status_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {
    "rds_instance.start": 300,
    "rds_instance.stop": 180,
    "rds_cluster.start": 300,
    "rds_cluster.stop": 180,
    # How much longer than their cluster the member instances take to start or stop.
    "rds_cluster.members": 60,
}


def _wrap_instance(verb: str, via: str) -> Callable[[Any], Any]:
    from moto.rds.exceptions import InvalidDBInstanceStateError

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, db_instance_identifier: str, *args: Any, **kwargs: Any) -> Any:
            if blocking_state(db_instance_identifier) is not None:
                raise InvalidDBInstanceStateError(db_instance_identifier, verb)
            # moto refuses anything but available (stop) or stopped (start); the status
            # it reads is the observed one, so "starting" is refused too, as in AWS.
            database = original(self, db_instance_identifier, *args, **kwargs)
            seconds = duration(f"rds_instance.{verb}")
            begin(database, db_instance_identifier, via, seconds, set_status(database))
            return database

        return action

    return wrapper


def _wrap_cluster(verb: str, via: str) -> Callable[[Any], Any]:
    from moto.rds.exceptions import InvalidDBClusterStateFault

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, cluster_identifier: str) -> Any:
            blocking = blocking_state(cluster_identifier)
            if blocking is not None:
                raise InvalidDBClusterStateFault(
                    f"DbCluster {cluster_identifier} is in {blocking} state but expected "
                    f"it to be one of {'stopped' if verb == 'start' else 'available'}."
                )
            answer = original(self, cluster_identifier)
            cluster = self.clusters[cluster_identifier]
            seconds = duration(f"rds_cluster.{verb}")
            begin(cluster, cluster_identifier, via, seconds, set_status(cluster))
            target = "available" if verb == "start" else "stopped"
            # The member instances start and stop with their cluster, and finish later.
            later = seconds + duration("rds_cluster.members")
            for member in cluster._members:
                member.status = target
                begin(member, member.db_instance_identifier, via, later, set_status(member))
            return answer

        return action

    return wrapper


def install() -> None:
    from moto.rds.models import DBCluster, DBInstance, RDSBackend

    status_property(DBInstance, "status", lambda db: db.db_instance_identifier)
    original = DBCluster.__dict__["status"]
    if not isinstance(original, property):  # pragma: no cover - moto changed shape
        raise TypeError("moto's DBCluster.status is no longer a property")
    status_property(
        DBCluster,
        "status",
        lambda cluster: cluster.db_cluster_identifier,
        raw=(original.fget, original.fset),  # type: ignore[arg-type]
    )
    wrap_once(RDSBackend, "start_db_instance", _wrap_instance("start", "starting"))
    wrap_once(RDSBackend, "stop_db_instance", _wrap_instance("stop", "stopping"))
    wrap_once(RDSBackend, "start_db_cluster", _wrap_cluster("start", "starting"))
    wrap_once(RDSBackend, "stop_db_cluster", _wrap_cluster("stop", "stopping"))
