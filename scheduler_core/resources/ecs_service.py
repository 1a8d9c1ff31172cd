"""ECS services: desiredCount = desired on start, 0 on stop."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationInfo, field_validator

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity
from scheduler_core.conflicts.scaling import ecs_scaling_conflicts
from scheduler_core.fields import Count, Identifier
from scheduler_core.resources.base import (
    Action,
    ClientFactory,
    KindIam,
    Params,
    PolledKind,
    ResourceState,
    ResourceStatus,
    all_of,
    error_code,
    is_number,
    is_one_of,
    is_present,
)

CLUSTER_NOT_FOUND = "ClusterNotFoundException"


class EcsServiceParams(Params):
    cluster_name: Identifier
    name: Identifier
    desired: Count
    # Optional: manage the service's Application Auto Scaling target, whose MinCapacity
    # would otherwise raise the desired count again after a stop.
    min_capacity: Count | None = None

    @field_validator("min_capacity")
    @classmethod
    def _min_capacity_within_desired(cls, value: int | None, info: ValidationInfo) -> int | None:
        # Application Auto Scaling would scale the service out to MinCapacity at once.
        desired = info.data.get("desired")
        if value is not None and desired is not None and value > desired:
            raise ValueError(
                f"expected min_capacity <= desired, got min_capacity {value}, desired {desired}"
            )
        return value


class EcsService(PolledKind):
    type_name = "ecs_service"
    params_model = EcsServiceParams
    example = EcsServiceParams(cluster_name="shop", name="api", desired=2, min_capacity=1)
    iam = KindIam(
        control=("ecs:UpdateService",),
        # A scalable target carries no tags IAM can condition on; template.yaml scopes
        # it by ARN, and the service stays protected by the tag on ecs:UpdateService.
        control_by_arn=("application-autoscaling:RegisterScalableTarget",),
        read=("ecs:DescribeServices",),
    )
    conflict_detectors = (ecs_scaling_conflicts,)
    error_prefix = "Ecs"
    # The scalable target is Application Auto Scaling's: its errors carry that prefix.
    before_error_prefix = "ApplicationAutoScaling"

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

    def schedule_identity(self, params: EcsServiceParams) -> TargetIdentity:
        cluster, name = params.cluster_name, params.name
        scalable = f"service/{cluster}/{name}"
        return TargetIdentity(
            # Application Auto Scaling calls (registerScalableTarget...) act on it too.
            sdk_services=frozenset({"ecs", "applicationautoscaling"}),
            arn_service="ecs",
            arn_resource=scalable,
            names=frozenset({f"{cluster}/{name}", scalable}),
            input_rules=(
                {"service": frozenset({scalable})},
                # A bare service name is common ("api"): it counts only with its cluster.
                {
                    "service": frozenset({name}),
                    "cluster": frozenset({cluster, f"cluster/{cluster}"}),
                },
                {"resourceid": frozenset({scalable})},
            ),
        )

    def read_status(self, params: EcsServiceParams, clients: ClientFactory) -> ResourceStatus:
        label = self.label(params)
        try:
            found = clients("ecs").describe_services(
                cluster=params.cluster_name, services=[params.name]
            )
        except ClientError as exc:
            if error_code(exc) != CLUSTER_NOT_FOUND:
                raise
            return self.missing(label, f"cluster {params.cluster_name} not found")
        services = found.get("services", [])
        if not services:
            # A missing service is not an error but a failures entry with reason MISSING.
            reasons = {f.get("reason", "") for f in found.get("failures", [])} - {"MISSING"}
            if reasons:
                return ResourceStatus(
                    type=self.type_name,
                    id=label,
                    state=ResourceState.UNKNOWN,
                    detail=f"ECS answered {', '.join(sorted(reasons))}",
                )
            return self.missing(
                label, f"service {params.name} not found in cluster {params.cluster_name}"
            )
        if services[0].get("status") == "INACTIVE":
            # Deleted services stay visible as INACTIVE for a while before they are MISSING.
            return self.missing(
                label, f"service {params.name} was deleted from cluster {params.cluster_name}"
            )
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
