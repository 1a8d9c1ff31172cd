"""`min_capacity` lets envctl manage an ECS service's Application Auto Scaling target."""

from __future__ import annotations

from infra.emulator.server import Emulator
from scheduler_core.aws import Aws
from scheduler_core.conflicts.finder import find_conflicts
from scheduler_core.conflicts.model import ConflictSource
from scheduler_core.resources import Action
from tests.functional import moto_resources
from tests.functional.helpers import composition, run


def _scalable(em: Emulator, cluster: str, minimum: int) -> None:
    em.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{cluster}/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=minimum,
        MaxCapacity=6,
    )


def _min_capacity(em: Emulator, cluster: str) -> int:
    found = em.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{cluster}/api"]
    )
    return int(found["ScalableTargets"][0]["MinCapacity"])


def test_stop_lowers_min_capacity_and_start_restores_it(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    service = moto_resources.ecs_service(aws_env, f"as-{unique}")
    _scalable(aws_env, f"as-{unique}", 2)
    item = {**service.item, "params": {**service.item["params"], "min_capacity": 2}}
    target = composition(f"c-{unique}", [item])

    assert run(aws, target, Action.STOP).succeeded
    assert (_min_capacity(aws_env, f"as-{unique}"), service.read()) == (0, "0/0")

    assert run(aws, target, Action.START).succeeded
    assert (_min_capacity(aws_env, f"as-{unique}"), service.read()) == (2, "2/2")


def test_managed_min_capacity_is_not_reported_as_a_conflict(
    aws_env: Emulator, aws: Aws, unique: str
) -> None:
    service = moto_resources.ecs_service(aws_env, f"mc-{unique}")
    _scalable(aws_env, f"mc-{unique}", 2)
    unmanaged = composition(f"u-{unique}", [service.item])
    managed_item = {**service.item, "params": {**service.item["params"], "min_capacity": 2}}
    managed = composition(f"m-{unique}", [managed_item])

    reported = find_conflicts(aws, unmanaged)

    assert [c.source for c in reported] == [ConflictSource.APPLICATION_AUTOSCALING_MIN_CAPACITY]
    assert "add `min_capacity: 2` to the item's params" in reported[0].hint
    assert find_conflicts(aws, managed) == []
