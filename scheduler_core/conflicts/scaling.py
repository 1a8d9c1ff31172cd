"""Scheduled scaling that resizes what envctl starts and stops.

* EC2 Auto Scaling scheduled actions change an Auto Scaling group's sizes.
* Application Auto Scaling scheduled actions change an ECS service's scalable
  target, and a scalable target with MinCapacity > 0 raises desiredCount again
  after envctl set it to 0.
"""

from __future__ import annotations

from typing import Any

from scheduler_core.conflicts.model import (
    Conflict,
    ConflictSource,
    ManagedResource,
    describe_expression,
    describe_once,
    describe_sizes,
)
from scheduler_core.conflicts.reading import SourceReader

ECS_NAMESPACE = "ecs"
ECS_DIMENSION = "ecs:service:DesiredCount"


def asg_scheduled_actions(reader: SourceReader, resource: ManagedResource) -> list[Conflict]:
    """EC2 Auto Scaling scheduled actions on a managed Auto Scaling group."""
    name = resource.params.name
    actions = reader.collect(
        "autoscaling",
        "describe_scheduled_actions",
        "ScheduledUpdateGroupActions",
        AutoScalingGroupName=name,
    )
    return [
        resource.conflict(
            ConflictSource.ASG_SCHEDULED_ACTION,
            detail=asg_action_detail(action),
            hint=(
                "Delete the scheduled action (aws autoscaling delete-scheduled-action "
                f"--auto-scaling-group-name {name} "
                f"--scheduled-action-name {action['ScheduledActionName']}) or take the group "
                "out of the composition, so that only one of them sets its sizes."
            ),
        )
        for action in actions or []
    ]


def asg_action_detail(action: dict[str, Any]) -> str:
    """One sentence for a ``ScheduledUpdateGroupAction``."""
    sizes = describe_sizes(
        min=action.get("MinSize"), max=action.get("MaxSize"), desired=action.get("DesiredCapacity")
    )
    recurrence = action.get("Recurrence")
    when = (
        describe_expression(f"cron({recurrence})", action.get("TimeZone"))
        if recurrence
        else describe_once(action.get("StartTime"))
    )
    return f'Auto Scaling scheduled action "{action["ScheduledActionName"]}" {sizes} {when}'


def ecs_scaling_conflicts(reader: SourceReader, resource: ManagedResource) -> list[Conflict]:
    """Application Auto Scaling scheduled actions and MinCapacity on a managed ECS service."""
    scalable_id = f"service/{resource.params.cluster_name}/{resource.params.name}"
    scope = {
        "ServiceNamespace": ECS_NAMESPACE,
        "ScalableDimension": ECS_DIMENSION,
    }
    targets = reader.collect(
        "application-autoscaling",
        "describe_scalable_targets",
        "ScalableTargets",
        ResourceIds=[scalable_id],
        **scope,
    )
    conflicts = [
        _min_capacity_conflict(resource, target, scalable_id)
        for target in targets or []
        # With min_capacity in the item, envctl lowers MinCapacity itself on stop.
        if target.get("MinCapacity", 0) > 0 and resource.params.min_capacity is None
    ]
    # Scheduled actions exist only on a registered target (deregistering deletes them),
    # so a known "no target" saves the call; a denied read of targets does not.
    if targets == []:
        return conflicts
    actions = reader.collect(
        "application-autoscaling",
        "describe_scheduled_actions",
        "ScheduledActions",
        ResourceId=scalable_id,
        **scope,
    )
    conflicts.extend(
        resource.conflict(
            ConflictSource.APPLICATION_AUTOSCALING_SCHEDULED_ACTION,
            detail=scheduled_action_detail(action),
            hint=(
                "Delete the scheduled action (aws application-autoscaling delete-scheduled-action "
                f"--service-namespace ecs --resource-id {scalable_id} "
                f"--scalable-dimension {ECS_DIMENSION} "
                f"--scheduled-action-name {action['ScheduledActionName']}) or take the service "
                "out of the composition, so that only one of them sets its task count."
            ),
        )
        for action in actions or []
    )
    return conflicts


def scheduled_action_detail(action: dict[str, Any]) -> str:
    """One sentence for an Application Auto Scaling ``ScheduledAction``."""
    target_action = action.get("ScalableTargetAction") or {}
    sizes = describe_sizes(
        min=target_action.get("MinCapacity"), max=target_action.get("MaxCapacity")
    )
    when = describe_expression(action.get("Schedule", ""), action.get("Timezone"))
    return (
        f'Application Auto Scaling scheduled action "{action["ScheduledActionName"]}" '
        f"{sizes} {when}"
    )


def _min_capacity_conflict(
    resource: ManagedResource, target: dict[str, Any], scalable_id: str
) -> Conflict:
    minimum = target["MinCapacity"]
    return resource.conflict(
        ConflictSource.APPLICATION_AUTOSCALING_MIN_CAPACITY,
        detail=(
            f"Application Auto Scaling scalable target {scalable_id} has MinCapacity {minimum}, "
            f"so it raises desiredCount back to {minimum} after envctl stops the service"
        ),
        hint=(
            f"Let envctl manage it: add `min_capacity: {minimum}` to the item's params (stop "
            "sets MinCapacity to 0, start restores it), or deregister the target "
            f"(aws application-autoscaling deregister-scalable-target --service-namespace "
            f"ecs --resource-id {scalable_id} --scalable-dimension {ECS_DIMENSION})."
        ),
    )
