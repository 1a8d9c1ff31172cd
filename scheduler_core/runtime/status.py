"""Live state of a composition, read resource by resource with boto3."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scheduler_core.aws import Aws
from scheduler_core.config.models import Composition
from scheduler_core.resources import Action, ResourceState, ResourceStatus
from scheduler_core.runtime.executions import running_execution


class CompositionState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    PARTIAL = "partial"
    STARTING = "starting"
    STOPPING = "stopping"


@dataclass(frozen=True, kw_only=True)
class CompositionStatus:
    composition: str
    state: CompositionState
    resources: tuple[ResourceStatus, ...]
    execution_arn: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``status --json`` document of DESIGN §3."""
        return {
            "composition": self.composition,
            "state": str(self.state),
            "resources": [resource.as_json() for resource in self.resources],
        }


def read_status(aws: Aws, composition: Composition) -> CompositionStatus:
    """Read every resource's state; a running execution decides starting/stopping."""
    resources = tuple(
        status
        for item in composition.items()
        if (status := item.kind.read_status(item.params, aws.client)) is not None
    )
    busy = ((Action.START, CompositionState.STARTING), (Action.STOP, CompositionState.STOPPING))
    for action, state in busy:
        arn = running_execution(aws, composition.name, action)
        if arn:
            return CompositionStatus(
                composition=composition.name, state=state, resources=resources, execution_arn=arn
            )
    return CompositionStatus(
        composition=composition.name, state=summarise(resources), resources=resources
    )


def summarise(resources: tuple[ResourceStatus, ...]) -> CompositionState:
    states = {resource.state for resource in resources}
    if states == {ResourceState.RUNNING}:
        return CompositionState.RUNNING
    if states == {ResourceState.STOPPED}:
        return CompositionState.STOPPED
    return CompositionState.PARTIAL
