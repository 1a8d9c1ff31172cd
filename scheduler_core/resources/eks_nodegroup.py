"""EKS managed node groups: scaling config min/max/desired on start, 0/max/0 on stop.

Start and stop are one ``UpdateNodegroupConfig`` call that sets the scaling config;
a stop keeps ``maxSize`` because EKS refuses a maximum below 1.

The loop reads one ``DescribeNodegroup`` answer, so readiness is what that answer
can say:

* the update has finished: EKS shows the node group ``UPDATING`` while any update
  of it is in progress and ``ACTIVE`` again once it is over, so ``ACTIVE`` stands
  for the update's ``Successful`` (the update id that ``DescribeUpdate`` would need
  is not known to a loop that found the group already in shape and never called
  the update);
* the scaling config equals the target;
* the nodes are healthy: a node group whose instances fail to launch or to join
  the cluster turns ``DEGRADED`` with health issues (``AsgInstanceLaunchFailures``,
  ``NodeCreationFailure``...), which is never ready. The loop waits through it
  (issues can clear, and a scaling change is still accepted) and its timeout names
  the issue codes, which the poll carries.

The nodes' own count lives in the node group's Auto Scaling group, a second
resource; the status read (boto3, not the loop) counts its ``InService`` instances
for its "2/2 nodes ready".

``CREATE_FAILED``, ``DELETING`` and ``DELETE_FAILED`` are unusable: no scaling
change leaves them. ``CREATING`` and ``UPDATING`` are waited through; the update is
made only from ``ACTIVE`` or ``DEGRADED`` (EKS refuses it while another update
runs, with ``ResourceInUseException``, which sends the loop back to waiting).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import model_validator

from scheduler_core.asl.fragments import SdkCall
from scheduler_core.conflicts.identity import TargetIdentity
from scheduler_core.fields import Count, Identifier, PositiveInt
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
    error_code,
    error_message,
    is_number,
    is_one_of,
    is_string,
)

ACTIVE = "ACTIVE"
UPDATABLE = [ACTIVE, "DEGRADED"]
UNUSABLE = ["CREATE_FAILED", "DELETING", "DELETE_FAILED"]
IN_SERVICE = "InService"
NOT_FOUND = "ResourceNotFoundException"


class EksNodegroupParams(Params):
    cluster_name: Identifier
    name: Identifier
    min: Count
    # EKS refuses a maximum below 1, even for a stopped node group.
    max: PositiveInt
    desired: Count

    @model_validator(mode="after")
    def _desired_within_bounds(self) -> EksNodegroupParams:
        check_sizes(self.min, self.desired, self.max)
        return self


class EksNodegroup(PolledKind):
    type_name = "eks_nodegroup"
    params_model = EksNodegroupParams
    example = EksNodegroupParams(cluster_name="shop", name="workers", min=1, max=3, desired=2)
    iam = KindIam(
        control=("eks:UpdateNodegroupConfig",),
        # The status read counts the nodes in the node group's Auto Scaling group.
        read=("eks:DescribeNodegroup", "autoscaling:DescribeAutoScalingGroups"),
    )
    noun = "node group"
    error_prefix = "Eks"
    invalid_state_errors = ("Eks.ResourceInUseException",)

    def label(self, params: EksNodegroupParams) -> str:
        return f"{params.cluster_name}/{params.name}"

    @staticmethod
    def sizes(params: EksNodegroupParams, action: Action) -> tuple[int, int, int]:
        if action is Action.START:
            return params.min, params.max, params.desired
        return 0, params.max, 0

    def action_call(self, params: EksNodegroupParams, action: Action) -> SdkCall:
        minimum, maximum, desired = self.sizes(params, action)
        return SdkCall(
            service="eks",
            action="updateNodegroupConfig",
            parameters={
                "ClusterName": params.cluster_name,
                "NodegroupName": params.name,
                "ScalingConfig": {
                    "MinSize": minimum,
                    "MaxSize": maximum,
                    "DesiredSize": desired,
                },
            },
        )

    def describe_call(self, params: EksNodegroupParams) -> SdkCall:
        group = "$.Nodegroup"
        return SdkCall(
            service="eks",
            action="describeNodegroup",
            parameters={"ClusterName": params.cluster_name, "NodegroupName": params.name},
            result_selector={
                "status.$": f"{group}.Status",
                "min.$": f"{group}.ScalingConfig.MinSize",
                "max.$": f"{group}.ScalingConfig.MaxSize",
                "desired.$": f"{group}.ScalingConfig.DesiredSize",
                "issues.$": f"{group}.Health.Issues[*].Code",
            },
        )

    def conditions(self, params: EksNodegroupParams, action: Action) -> dict[str, Any]:
        minimum, maximum, desired = self.sizes(params, action)
        sizes_set = all_of(
            is_number("min", minimum), is_number("max", maximum), is_number("desired", desired)
        )
        return {
            "ready": all_of(is_string("status", ACTIVE), sizes_set),
            "unusable": is_one_of("status", UNUSABLE),
            "actionable": all_of(is_one_of("status", UPDATABLE), {"Not": sizes_set}),
        }

    def schedule_identity(self, params: EksNodegroupParams) -> TargetIdentity:
        cluster, name = params.cluster_name, params.name
        resource = f"nodegroup/{cluster}/{name}"
        return TargetIdentity(
            sdk_services=frozenset({"eks"}),
            arn_service="eks",
            # The ARN ends in a generated id after this.
            arn_resource=resource,
            names=frozenset({f"{cluster}/{name}", resource}),
            # A node group name is common ("workers"): it counts only with its cluster.
            input_rules=(
                {"nodegroupname": frozenset({name}), "clustername": frozenset({cluster})},
            ),
        )

    def read_status(self, params: EksNodegroupParams, clients: ClientFactory) -> ResourceStatus:
        label = self.label(params)
        try:
            group = clients("eks").describe_nodegroup(
                clusterName=params.cluster_name, nodegroupName=params.name
            )["nodegroup"]
        except ClientError as exc:
            if error_code(exc) != NOT_FOUND:
                raise
            return self.missing(label, self._missing_detail(params, exc))
        desired = int(group.get("scalingConfig", {}).get("desiredSize", 0))
        instances = self._instances(group, clients)
        ready = sum(1 for instance in instances if instance.get("LifecycleState") == IN_SERVICE)
        status = str(group.get("status", ""))
        if status != ACTIVE:
            state = ResourceState.TRANSITIONING
        elif desired == 0 and not instances:
            state = ResourceState.STOPPED
        elif desired > 0 and ready >= desired:
            state = ResourceState.RUNNING
        else:
            state = ResourceState.TRANSITIONING
        detail = f"{ready}/{desired} nodes ready"
        if status != ACTIVE:
            detail = f"{status}, {detail}"
        return ResourceStatus(type=self.type_name, id=label, state=state, detail=detail)

    @staticmethod
    def _missing_detail(params: EksNodegroupParams, exc: ClientError) -> str:
        # The same error code answers for a missing cluster; its message tells them apart.
        if error_message(exc).lower().startswith("no cluster found"):
            return f"cluster {params.cluster_name} not found"
        return f"node group {params.name} not found in cluster {params.cluster_name}"

    @staticmethod
    def _instances(group: dict[str, Any], clients: ClientFactory) -> list[dict[str, Any]]:
        """The instances of the node group's Auto Scaling groups."""
        names = [
            str(asg["name"])
            for asg in group.get("resources", {}).get("autoScalingGroups", [])
            if asg.get("name")
        ]
        if not names:
            return []
        found = clients("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=names)
        return [i for asg in found["AutoScalingGroups"] for i in asg.get("Instances", [])]
