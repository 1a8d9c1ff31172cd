"""Redshift clusters: ``pausing`` / ``resuming``; pausing a cluster that is not available
(or resuming one that is not paused) is refused with ``InvalidClusterStateFault``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.emulator.lifecycle.clock import duration
from infra.emulator.lifecycle.transitions import begin, set_status, status_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"redshift.resume": 180, "redshift.pause": 180}


def _wrap(verb: str, source: str, via: str) -> Callable[[Any], Any]:
    from moto.redshift.exceptions import RedshiftClientError

    def wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def action(self: Any, cluster_id: str) -> Any:
            cluster = self.clusters.get(cluster_id)
            if cluster is not None and cluster.status != source:
                raise RedshiftClientError(
                    "InvalidClusterStateFault",
                    f"You can't {verb} cluster {cluster_id} in its current state {cluster.status}.",
                )
            answer = original(self, cluster_id)
            begin(answer, cluster_id, via, duration(f"redshift.{verb}"), set_status(answer))
            return answer

        return action

    return wrapper


def install() -> None:
    from moto.redshift.models import Cluster, RedshiftBackend

    status_property(Cluster, "status", lambda cluster: cluster.cluster_identifier)
    wrap_once(RedshiftBackend, "pause_cluster", _wrap("pause", "available", "pausing"))
    wrap_once(RedshiftBackend, "resume_cluster", _wrap("resume", "paused", "resuming"))
