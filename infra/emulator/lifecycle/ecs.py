"""ECS services: ``runningCount`` moves one task at a time towards the desired count.

While a service is held (``faults.never_ready``) or its tasks fail (``faults.ends_in``)
the running count does not move, so it never reaches the desired count.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.emulator.lifecycle.clock import duration, now
from infra.emulator.lifecycle.faults import is_held, terminal_state
from infra.emulator.lifecycle.transitions import install_property
from infra.emulator.patching import wrap_once

SECONDS: dict[str, float] = {"ecs.task": 30}

_CONVERGENCE = "_envctl_convergence"


@dataclass
class _Convergence:
    resource_id: str
    start: int
    target: int
    began: float
    per_task: float

    def running(self, at: float) -> int:
        if is_held(self.resource_id) or terminal_state(self.resource_id) is not None:
            # Stuck, or every task fails before it runs: no progress.
            return self.start
        steps = int((at - self.began) / self.per_task) if self.per_task > 0 else 1 << 30
        if self.target >= self.start:
            return min(self.target, self.start + steps)
        return max(self.target, self.start - steps)


def _running(service: Any) -> int:
    convergence: _Convergence | None = service.__dict__.get(_CONVERGENCE)
    raw: int = service.__dict__.get("running_count", 0)
    if convergence is None:
        return raw
    count = convergence.running(now())
    if count == convergence.target and not is_held(convergence.resource_id):
        service.__dict__.pop(_CONVERGENCE, None)
    return count


def _set_running(service: Any, value: int) -> None:
    service.__dict__["running_count"] = value


def _pending(service: Any) -> int:
    if _CONVERGENCE in service.__dict__:
        desired: int = service.desired_count
        return max(0, desired - _running(service))
    raw: int = service.__dict__.get("pending_count", 0)
    return raw


def _set_pending(service: Any, value: int) -> None:
    service.__dict__["pending_count"] = value


def _wrap_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        cluster = service_properties.get("cluster", "default")
        name = str(service_properties.get("service", "")).split("/")[-1]
        before = None
        with contextlib.suppress(Exception):
            before = self._get_service(cluster, name).running_count
        service = original(self, service_properties)
        if before is not None and before != service.desired_count:
            service.__dict__[_CONVERGENCE] = _Convergence(
                f"{service.cluster_name}/{service.name}",
                before,
                service.desired_count,
                now(),
                duration("ecs.task"),
            )
        return service

    return update_service


def install() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend, Service

    install_property(Service, "running_count", _running, _set_running)
    install_property(Service, "pending_count", _pending, _set_pending)
    wrap_once(EC2ContainerServiceBackend, "update_service", _wrap_update)
