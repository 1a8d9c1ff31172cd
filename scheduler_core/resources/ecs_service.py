"""ECS services: desiredCount = desired on start, 0 on stop."""

from __future__ import annotations

from typing import Any

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.fields import Count, Identifier
from scheduler_core.resources.base import (
    Action,
    ClientFactory,
    Params,
    PolledKind,
    ResourceState,
    ResourceStatus,
    all_of,
    is_number,
    is_one_of,
    is_present,
)


class EcsServiceParams(Params):
    cluster_name: Identifier
    name: Identifier
    desired: Count
    # Optional: manage the service's Application Auto Scaling target, whose MinCapacity
    # would otherwise raise the desired count again after a stop.
    min_capacity: Count | None = None


class EcsService(PolledKind):
    type_name = "ecs_service"
    params_model = EcsServiceParams
    service = "ecs"
    error_prefix = "Ecs"

    def label(self, params: EcsServiceParams) -> str:
        return f"{params.cluster_name}/{params.name}"

    @staticmethod
    def target(params: EcsServiceParams, action: Action) -> int:
        return params.desired if action is Action.START else 0

    def action_call(self, params: EcsServiceParams, action: Action) -> SdkCall:
        return SdkCall(
            service="ecs",
            action="updateService",
            parameters={
                "Cluster": params.cluster_name,
                "Service": params.name,
                "DesiredCount": self.target(params, action),
            },
        )

    def before_call(self, params: EcsServiceParams, action: Action) -> SdkCall | None:
        if params.min_capacity is None:
            return None
        return SdkCall(
            service="applicationautoscaling",
            action="registerScalableTarget",
            parameters={
                "ServiceNamespace": "ecs",
                "ResourceId": f"service/{params.cluster_name}/{params.name}",
                "ScalableDimension": "ecs:service:DesiredCount",
                "MinCapacity": params.min_capacity if action is Action.START else 0,
            },
        )

    def describe_call(self, params: EcsServiceParams) -> SdkCall:
        # [*] projections yield [] for a missing service instead of a runtime error.
        return SdkCall(
            service="ecs",
            action="describeServices",
            parameters={"Cluster": params.cluster_name, "Services": [params.name]},
            result_selector={
                "status.$": "$.Services[*].Status",
                "desired.$": "$.Services[*].DesiredCount",
                "running.$": "$.Services[*].RunningCount",
            },
        )

    def conditions(self, params: EcsServiceParams, action: Action) -> dict[str, Any]:
        target = self.target(params, action)
        return {
            "missing": {
                "Or": [is_present("status[0]", False), is_one_of("status[0]", ["INACTIVE"])]
            },
            "ready": all_of(is_number("desired[0]", target), is_number("running[0]", target)),
            "actionable": {"Not": is_number("desired[0]", target)},
        }

    def read_status(self, params: EcsServiceParams, clients: ClientFactory) -> ResourceStatus:
        found = clients("ecs").describe_services(
            cluster=params.cluster_name, services=[params.name]
        )
        services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
        label = self.label(params)
        if not services:
            return self.missing(label)
        desired, running = services[0]["desiredCount"], services[0]["runningCount"]
        if desired == 0 and running == 0:
            state = ResourceState.STOPPED
        elif desired > 0 and running >= desired:
            state = ResourceState.RUNNING
        else:
            state = ResourceState.TRANSITIONING
        return ResourceStatus(
            type=self.type_name, id=label, state=state, detail=f"{running}/{desired} tasks running"
        )
