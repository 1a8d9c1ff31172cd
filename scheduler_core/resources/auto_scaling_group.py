"""EC2 Auto Scaling groups: set min/max/desired on start, 0/0/0 on stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity
from scheduler_core.conflicts.scaling import asg_scheduled_actions
from scheduler_core.conflicts.tags import tag_value
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
    check_sizes,
    is_number,
    is_present,
)

if TYPE_CHECKING:
    from scheduler_core.conflicts.reading import SourceReader

IN_SERVICE = "InService"


class AutoScalingGroupParams(Params):
    name: Identifier
    min: Count
    max: Count
    desired: Count

    @model_validator(mode="after")
    def _desired_within_bounds(self) -> AutoScalingGroupParams:
        check_sizes(self.min, self.desired, self.max)
        return self


class AutoScalingGroup(PolledKind):
    type_name = "auto_scaling_group"
    params_model = AutoScalingGroupParams
    example = AutoScalingGroupParams(name="workers", min=1, max=3, desired=2)
    iam = KindIam(
        control=("autoscaling:UpdateAutoScalingGroup",),
        read=("autoscaling:DescribeAutoScalingGroups",),
    )
    conflict_detectors = (asg_scheduled_actions,)
    noun = "Auto Scaling group"
    error_prefix = "AutoScaling"

    def label(self, params: AutoScalingGroupParams) -> str:
        return params.name

    @staticmethod
    def sizes(params: AutoScalingGroupParams, action: Action) -> tuple[int, int, int]:
        if action is Action.START:
            return params.min, params.max, params.desired
        return 0, 0, 0

    def action_call(self, params: AutoScalingGroupParams, action: Action) -> SdkCall:
        minimum, maximum, desired = self.sizes(params, action)
        return SdkCall(
            service="autoscaling",
            action="updateAutoScalingGroup",
            parameters={
                "AutoScalingGroupName": params.name,
                "MinSize": minimum,
                "MaxSize": maximum,
                "DesiredCapacity": desired,
            },
        )

    def describe_call(self, params: AutoScalingGroupParams) -> SdkCall:
        groups = "$.AutoScalingGroups[*]"
        return SdkCall(
            service="autoscaling",
            action="describeAutoScalingGroups",
            parameters={"AutoScalingGroupNames": [params.name]},
            result_selector={
                "min.$": f"{groups}.MinSize",
                "max.$": f"{groups}.MaxSize",
                "desired.$": f"{groups}.DesiredCapacity",
                "instances.$": f"{groups}.Instances[*].InstanceId",
                "in_service.$": f"{groups}.Instances[?(@.LifecycleState == '{IN_SERVICE}')]"
                ".InstanceId",
            },
        )

    def conditions(self, params: AutoScalingGroupParams, action: Action) -> dict[str, Any]:
        minimum, maximum, desired = self.sizes(params, action)
        sizes_set = all_of(
            is_number("min[0]", minimum),
            is_number("max[0]", maximum),
            is_number("desired[0]", desired),
        )
        # Choice rules cannot count, but "element desired-1 exists" is "count >= desired".
        if desired > 0:
            capacity = is_present(f"in_service[{desired - 1}]")
        else:
            capacity = is_present("instances[0]", False)
        return {
            "missing": is_present("desired[0]", False),
            "ready": all_of(sizes_set, capacity),
            "actionable": {"Not": sizes_set},
        }

    def schedule_identity(self, params: AutoScalingGroupParams) -> TargetIdentity:
        return TargetIdentity(
            sdk_services=frozenset({"autoscaling"}),
            arn_service="autoscaling",
            # The ARN has a generated id in the middle; its tail names the group.
            arn_resource=f"autoScalingGroupName/{params.name}",
            names=frozenset({params.name}),
            input_rules=({"autoscalinggroupname": frozenset({params.name})},),
        )

    def scheduler_tag(
        self, reader: SourceReader, params: AutoScalingGroupParams, key: str
    ) -> str | None:
        tags = reader.collect(
            "autoscaling",
            "describe_tags",
            "Tags",
            Filters=[
                {"Name": "auto-scaling-group", "Values": [params.name]},
                {"Name": "key", "Values": [key]},
            ],
        )
        return tag_value(tags, key)

    def read_status(self, params: AutoScalingGroupParams, clients: ClientFactory) -> ResourceStatus:
        found = clients("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[params.name]
        )
        # An unknown group is an empty list, not an error.
        if not found["AutoScalingGroups"]:
            return self.missing(params.name, f"Auto Scaling group {params.name} not found")
        group = found["AutoScalingGroups"][0]
        desired = group["DesiredCapacity"]
        in_service = sum(1 for i in group["Instances"] if i["LifecycleState"] == IN_SERVICE)
        if desired == 0 and not group["Instances"]:
            state = ResourceState.STOPPED
        elif desired > 0 and in_service >= desired:
            state = ResourceState.RUNNING
        else:
            state = ResourceState.TRANSITIONING
        return ResourceStatus(
            type=self.type_name,
            id=params.name,
            state=state,
            detail=f"{in_service}/{desired} instances in service",
        )
